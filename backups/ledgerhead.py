"""What an archive's manifest says about the custody ledger (country schema):
where the chain ends, and — once the ledger signs its entries — that end
signed with the country's key, its public key and fingerprint.

Read through these two functions only, so the manifest follows the ledger
app as it grows (signed checkpoints, ledger.checkpoints).
"""

from ledger import checkpoints as ledger_checkpoints
from ledger import signing as ledger_signing
from ledger.models import LedgerHead


def ledger_head() -> dict:
    """The chain's end in the current schema, read in the caller's snapshot."""
    head = LedgerHead.objects.filter(pk=1).first()
    sequence, last_hash = (head.last_sequence, head.last_hash) if head else (0, "0" * 64)
    return {"sequence": sequence, "hash": last_hash, **signed_checkpoint(sequence, last_hash)}


def signed_checkpoint(sequence: int, last_hash: str) -> dict:
    """The ledger's signed checkpoint of this end, when the ledger signs
    ({} otherwise, or when the chain's end does not verify)."""
    try:
        checkpoint = ledger_checkpoints.take()
    except ledger_checkpoints.CheckpointUnavailable:
        return {"checkpoint_error": "the end of the custody ledger does not verify"}
    if checkpoint.sequence != sequence or checkpoint.hash != last_hash:
        return {}
    data = checkpoint.as_dict()
    return {
        "checkpoint": data["token"],
        "signature": data["signature"],
        "public_key": data["public_key"],
        "key_fingerprint": data["key_fingerprint"],
    }


def signing_key_fingerprint(schema_name: str) -> str | None:
    """This deployment's ledger key fingerprint for the country (None before
    the ledger signs)."""
    return ledger_signing.fingerprint(ledger_signing.public_key(schema_name))
