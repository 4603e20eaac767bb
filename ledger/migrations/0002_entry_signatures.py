# Entries are signed (Ed25519, ledger.signing) from now on. Entries already
# in the chain get their signature here, once: the chain is walked from the
# start as verify_ledger walks it, and each entry whose sequence, link and hash
# check out is signed; at the first one that does not, signing stops (the
# rest stay unsigned, and verify_ledger names that entry as before). The head
# records how far and when, so the checks can say these entries were signed
# at the upgrade rather than when they were written.
#
# The never-update trigger is switched off for this transaction only, by the
# migration (which runs as the tables' owner), and on again before it commits.
# A country with no entries yet (every new one) has nothing to sign.

from django.db import migrations, models
from django.utils import timezone

BATCH = 2000
NO_UPDATE_TRIGGER = "pgtrigger_ledgerentry_no_update_b6c8a"


def sign_existing(apps, schema_editor):
    from ledger import chain, signing

    LedgerEntry = apps.get_model("ledger", "LedgerEntry")
    LedgerHead = apps.get_model("ledger", "LedgerHead")
    if not LedgerEntry.objects.exists():
        return
    schema = schema_editor.connection.schema_name
    cursor = schema_editor.connection.cursor()
    cursor.execute(f"ALTER TABLE custody_ledgerentry DISABLE TRIGGER {NO_UPDATE_TRIGGER}")
    expected, prev_hash, last_signed, batch = 1, chain.GENESIS_HASH, 0, []

    def flush():
        cursor.executemany(
            "UPDATE custody_ledgerentry SET signature = %s WHERE id = %s", batch
        )
        batch.clear()

    for entry in LedgerEntry.objects.order_by("sequence").iterator(chunk_size=BATCH):
        if (
            entry.sequence != expected
            or entry.prev_hash != prev_hash
            or chain.compute_hash(entry) != entry.hash
        ):
            break
        batch.append((signing.sign_entry(entry.hash, schema_name=schema), entry.pk))
        if len(batch) >= BATCH:
            flush()
        last_signed, prev_hash, expected = entry.sequence, entry.hash, expected + 1
    if batch:
        flush()
    cursor.execute(f"ALTER TABLE custody_ledgerentry ENABLE TRIGGER {NO_UPDATE_TRIGGER}")
    LedgerHead.objects.filter(pk=1).update(
        signatures_backfilled_to=last_signed, signatures_backfilled_at=timezone.now()
    )


class Migration(migrations.Migration):

    dependencies = [
        ('ledger', '0001_initial'),
        # The old-named triggers are gone (custody 0003): only the ledger's own
        # never-update trigger needs switching off.
        ('custody', '0003_ledger_moves_to_its_own_app'),
    ]

    operations = [
        migrations.AddField(
            model_name='ledgerentry',
            name='signature',
            field=models.CharField(default='', max_length=88, verbose_name='signature'),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name='ledgerhead',
            name='signatures_backfilled_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='ledgerhead',
            name='signatures_backfilled_to',
            field=models.BigIntegerField(default=0),
        ),
        migrations.RunPython(sign_existing, migrations.RunPython.noop),
    ]
