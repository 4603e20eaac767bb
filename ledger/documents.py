"""The ledger checkpoint printed at the foot of every PDF page SMS issues
(transfer manifests and receipts, reports and CITES declarations): a copy of
where the chain ended, outside the database, and the fingerprint of the key
that signed it. Drawn with ReportLab's canvas; no database access here."""

from django.utils.translation import gettext as _
from reportlab.lib.units import mm

from . import signing
from .checkpoints import Checkpoint

# The three lines take this much height above ``bottom``.
HEIGHT = 9 * mm
_LEAD = 3.1 * mm


def footer_lines(checkpoint) -> list[tuple[str, float, str]]:
    """(font, size, text) from top to bottom for a Checkpoint, or the warning
    for Unavailable (the ledger's end did not verify); nothing for None."""
    if checkpoint is None:
        return []
    if not isinstance(checkpoint, Checkpoint):
        return [
            (
                "Helvetica-Bold",
                6.5,
                _(
                    "No custody ledger checkpoint: the end of the ledger does not verify. "
                    "Ask an administrator to run the ledger check."
                ),
            )
        ]
    key = signing.public_key(checkpoint.country.lower())
    first, second = checkpoint.token_lines()
    return [
        (
            "Helvetica",
            6.5,
            _(
                "Custody ledger checkpoint (check it with verify_ledger --checkpoint or on "
                "the Ledger check page), signing key %(fingerprint)s:"
            )
            % {"fingerprint": signing.fingerprint(key)},
        ),
        ("Courier", 6, first),
        ("Courier", 6, second),
    ]


def draw_checkpoint(canvas, *, checkpoint, left: float, bottom: float) -> None:
    """Draw the footer lines with the last one on ``bottom``."""
    lines = footer_lines(checkpoint)
    canvas.saveState()
    canvas.setFillGray(0.25)
    for index, (font, size, text) in enumerate(lines):
        canvas.setFont(font, size)
        canvas.drawString(left, bottom + (len(lines) - 1 - index) * _LEAD, text)
    canvas.restoreState()
