"""Printable transfer documents (country schema data, rendered in memory):
the dispatch manifest and the receipt, as PDF, with a QR code that opens the
transfer on the country's host, and a signed checkpoint of the custody ledger
at the foot of each page."""

import io
from xml.sax.saxutils import escape

import segno
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import (
    Image,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from ledger import checkpoints
from ledger.documents import draw_checkpoint

from .models import Transfer, TransferItem
from .selectors import transfer_receipts

MANIFEST = "manifest"
RECEIPT = "receipt"


def transfer_url(*, country, transfer: Transfer) -> str:
    return country.base_url + reverse("custody:transfer_detail", args=[transfer.pk])


def _qr(url: str) -> Image:
    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="png", scale=4, border=2)
    out.seek(0)
    return Image(out, width=30 * mm, height=30 * mm)


def _thumbnail(item) -> object:
    photo = next(iter(item.photos.all()), None)
    if photo is None or not photo.thumbnail:
        return ""
    try:
        with photo.thumbnail.open("rb") as handle:
            data = io.BytesIO(handle.read())
    except OSError:
        return ""
    return Image(data, width=18 * mm, height=18 * mm, kind="proportional")


def _kg(value) -> str:
    if value is None:
        return "—"
    return f"{formats.number_format(value, 3, use_l10n=True)} kg"


def _yes_no(value) -> str:
    if value is None:
        return "—"
    return _("yes") if value else _("no")


def render_transfer_pdf(
    *, country, transfer: Transfer, lines: list[TransferItem], kind: str
) -> bytes:
    """The manifest (kind="manifest") or the receipt (kind="receipt") of ``transfer``."""
    styles = getSampleStyleSheet()
    small = styles["BodyText"].clone("small", fontSize=8, leading=10)
    out = io.BytesIO()
    title = _("Dispatch manifest") if kind == MANIFEST else _("Transfer receipt")
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        # Room for the ledger checkpoint under the frame.
        bottomMargin=19 * mm,
        title=f"{title} {transfer.reference}",
        author=country.name,
    )

    def p(text, style=small):
        return Paragraph(escape(str(text)), style)

    url = transfer_url(country=country, transfer=transfer)
    when = transfer.dispatched_at or transfer.created_at
    head = [
        [p(_("Transfer"), styles["BodyText"]), p(transfer.reference, styles["Heading2"])],
        [p(_("From")), p(f"{transfer.origin.name} ({transfer.origin.code})")],
        [p(_("To")), p(f"{transfer.destination.name} ({transfer.destination.code})")],
        [p(_("Reason")), p(transfer.reason)],
        [p(_("Authority reference")), p(transfer.authority_reference)],
        [p(_("Seal numbers")), p(transfer.seal_numbers or "—")],
        [p(_("Courier / vehicle")), p(f"{transfer.courier or '—'} / {transfer.vehicle or '—'}")],
        [p(_("Dispatching officer")), p(transfer.dispatching_officer or "—")],
        [p(_("Dispatched")), p(formats.date_format(timezone.localtime(when), "DATETIME_FORMAT"))],
    ]
    if kind == RECEIPT:
        # Who received the items and when: one row per receipt (a partial
        # receipt and its completion are two).
        for receipt in transfer_receipts(lines):
            who, at, count = receipt["who"], receipt["when"], receipt["count"]
            moment = formats.date_format(timezone.localtime(at), "DATETIME_FORMAT")
            head.append(
                [
                    p(_("Received")),
                    p(
                        ngettext(
                            "%(who)s, %(when)s (%(count)s item)",
                            "%(who)s, %(when)s (%(count)s items)",
                            count,
                        )
                        % {"who": who, "when": moment, "count": count}
                    ),
                ]
            )
    head_table = Table(head, colWidths=[40 * mm, 100 * mm])
    top = Table([[head_table, [_qr(url), p(url)]]], colWidths=[142 * mm, 38 * mm])
    top.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    story = [
        Paragraph(escape(f"{country.name} — {title}"), styles["Title"]),
        top,
        Spacer(1, 5 * mm),
    ]

    header = [_("Photo"), _("SMS number"), _("CITES mark"), _("Type"), _("Weight dispatched")]
    if kind == RECEIPT:
        header += [_("Present"), _("Seal intact"), _("Weight received")]
    rows = [[p(h) for h in header]]
    total = 0
    for line in lines:
        item = line.item
        row = [
            _thumbnail(item),
            p(item.sms_number),
            p(item.cites_mark or "—"),
            p(item.item_type.label()),
            p(
                _kg(
                    line.weight_dispatched if line.weight_dispatched is not None else item.weight_kg
                )
            ),
        ]
        if kind == RECEIPT:
            row += [
                p(_yes_no(line.present)),
                p(_yes_no(line.seal_intact)),
                p(_kg(line.weight_received)),
            ]
        rows.append(row)
        total += line.weight_dispatched or item.weight_kg
    rows.append(
        ["", p(_("Total: %(count)s items") % {"count": len(lines)}), "", "", p(_kg(total))]
        + ([""] * 3 if kind == RECEIPT else [])
    )
    widths = [22 * mm, 32 * mm, 36 * mm, 32 * mm, 24 * mm]
    if kind == RECEIPT:
        widths = [20 * mm, 28 * mm, 30 * mm, 26 * mm, 22 * mm, 16 * mm, 16 * mm, 22 * mm]
    table = Table(rows, colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef2f1")),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ]
        )
    )
    story += [table, Spacer(1, 12 * mm)]

    if kind == MANIFEST:
        roles = [_("Dispatching officer"), _("Courier"), _("Witness")]
    else:
        roles = [_("Receiving officer"), _("Courier"), _("Witness")]
    signatures = [
        [p(r) for r in roles],
        [p(_("Name")) for _r in roles],
        [p(_("Signature and date")) for _r in roles],
    ]
    sign_table = Table(signatures, colWidths=[60 * mm] * 3, rowHeights=[8 * mm, 14 * mm, 18 * mm])
    sign_table.setStyle(
        TableStyle(
            [("GRID", (0, 0), (-1, -1), 0.4, colors.grey), ("VALIGN", (0, 0), (-1, -1), "TOP")]
        )
    )
    story.append(sign_table)
    checkpoint = checkpoints.take_for_document()

    def footer(canvas, doc_):
        draw_checkpoint(canvas, checkpoint=checkpoint, left=15 * mm, bottom=7 * mm)

    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return out.getvalue()
