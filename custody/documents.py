"""Printable custody documents (country schema data, rendered in memory):
the dispatch manifest and the receipt, as PDF, with a QR code that opens the
transfer on the country's host, and a signed checkpoint of the custody ledger
at the foot of each page; the stock-take sheet, to count a store on paper.

Each item line carries the item's own QR code, the one on its label
(stock.labels.SmsCode: exactly the SMS number), so a scanner reads the same
number from the label, the manifest and the sheet."""

import io
from xml.sax.saxutils import escape

import segno
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import (
    Flowable,
    Image,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from core import display
from ledger import checkpoints
from ledger.documents import draw_checkpoint
from stock.evidence import photo_open_thumbnail
from stock.labels import SmsCode

from .models import StockTakeLine, Transfer, TransferItem
from .selectors import transfer_receipts

# The item codes in tables: large enough to scan from paper at arm's length.
CODE_SIZE = 15 * mm

MANIFEST = "manifest"
RECEIPT = "receipt"


def _one_line(text: str, style, width: float) -> Paragraph:
    """``text`` (an SMS number, a mark: no spaces to wrap at) on one line in a
    cell ``width`` wide, set smaller when it would not fit; never broken."""
    room = width - 12  # the cell's default padding, 6 points a side
    size = style.fontSize
    natural = stringWidth(text, style.fontName, size)
    if natural > room:
        size = max(4.0, size * room / natural)
    fitted = style.clone(f"{style.name}-{size:.1f}", fontSize=size, leading=size * 1.2)
    return Paragraph(escape(text), fitted)


class _TickBox(Flowable):
    """An empty box to tick by hand (or ticked: a result already recorded)."""

    def __init__(self, *, ticked: bool = False, size: float = 4.5 * mm):
        super().__init__()
        self.ticked = ticked
        self.width = self.height = size

    def draw(self):
        size = self.width
        self.canv.setLineWidth(0.8)
        self.canv.rect(0, 0, size, size, stroke=1, fill=0)
        if self.ticked:
            self.canv.line(size * 0.2, size * 0.2, size * 0.8, size * 0.8)
            self.canv.line(size * 0.2, size * 0.8, size * 0.8, size * 0.2)


def transfer_url(*, country, transfer: Transfer) -> str:
    return country.base_url + reverse("custody:transfer_detail", args=[transfer.pk])


def _qr(url: str) -> Image:
    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="png", scale=4, border=2)
    out.seek(0)
    return Image(out, width=30 * mm, height=30 * mm)


def _thumbnail(item) -> object:
    photo = next(iter(item.photos.all()), None)
    if photo is None:
        return ""
    # As the item page serves it: the original checked, the thumbnail checked
    # against its recorded SHA-256 (made again if swapped); nothing when the
    # original no longer matches (stock.evidence).
    _check, handle = photo_open_thumbnail(photo)
    if handle is None:
        return ""
    try:
        with handle:
            data = io.BytesIO(handle.read())
    except OSError:
        return ""
    return Image(data, width=18 * mm, height=18 * mm, kind="proportional")


def _kg(value) -> str:
    return display.weight(value)


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
        [p(_("Dispatched")), p(display.when(when))],
    ]
    if kind == RECEIPT:
        # Who received the items and when: one row per receipt (a partial
        # receipt and its completion are two).
        for receipt in transfer_receipts(lines):
            who, at, count = receipt["who"], receipt["when"], receipt["count"]
            moment = display.when(at)
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

    header = [
        _("Photo"),
        _("Code"),
        _("SMS number"),
        _("CITES mark"),
        _("Type"),
        _("Weight dispatched"),
    ]
    if kind == RECEIPT:
        header += [_("Present"), _("Seal intact"), _("Weight received")]
    # Headings wrap at spaces only (a narrow column never cuts a word).
    heading = small.clone("heading", fontSize=7, leading=8.5, splitLongWords=0)
    rows = [[Paragraph(escape(str(h)), heading) for h in header]]
    widths = [20 * mm, 21 * mm, 32 * mm, 39 * mm, 40 * mm, 28 * mm]
    if kind == RECEIPT:
        widths = [20 * mm, 20 * mm, 26 * mm, 26 * mm, 22 * mm, 18 * mm, 14 * mm, 14 * mm, 20 * mm]
    total = 0
    for line in lines:
        item = line.item
        row = [
            _thumbnail(item),
            SmsCode(item.sms_number, size=CODE_SIZE),
            _one_line(item.sms_number, small, widths[2]),
            _one_line(item.cites_mark or "—", small, widths[3]),
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
        ["", "", p(_("Total: %(count)s items") % {"count": len(lines)}), "", "", p(_kg(total))]
        + ([""] * 3 if kind == RECEIPT else [])
    )
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


def render_stocktake_sheet(*, country, stocktake, lines) -> bytes:
    """The stock-take sheet: every item expected at the store (and any added),
    each with its code, to tick Found / Damaged / Missing and write the weight
    measured; who counted and a witness sign at the end."""
    styles = getSampleStyleSheet()
    small = styles["BodyText"].clone("small", fontSize=8, leading=10)
    out = io.BytesIO()
    title = _("Stock-take sheet")
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=19 * mm,
        title=f"{title} {stocktake.reference}",
        author=country.name,
    )

    def p(text, style=small):
        return Paragraph(escape(str(text)), style)

    head = [
        [p(_("Stock-take"), styles["BodyText"]), p(stocktake.reference, styles["Heading2"])],
        [p(_("Store")), p(f"{stocktake.site.name} ({stocktake.site.code})")],
        [
            p(_("Opened")),
            p(f"{display.when(stocktake.opened_at)} — {stocktake.opened_by.display_name}"),
        ],
        [p(_("Status")), p(stocktake.get_status_display())],
        [
            p(_("Items")),
            p(display.count(len(lines))),
        ],
    ]
    story = [
        Paragraph(escape(f"{country.name} — {title}"), styles["Title"]),
        Table(head, colWidths=[40 * mm, 140 * mm]),
        Spacer(1, 4 * mm),
        p(
            _(
                "Scan or read each item's code, tick one box, and write the weight "
                "when it is weighed again. Items found that are not listed: write them "
                "at the end."
            )
        ),
        Spacer(1, 3 * mm),
    ]
    header = [
        _("Code"),
        _("SMS number"),
        _("CITES mark"),
        _("Type"),
        _("Expected weight"),
        _("Found"),
        _("Damaged"),
        _("Missing"),
        _("Weight measured"),
    ]
    # Headings wrap at spaces only, small enough for the narrow tick columns.
    heading = small.clone("heading", fontSize=7, leading=8.5, splitLongWords=0)
    rows = [[Paragraph(escape(str(h)), heading) for h in header]]
    widths = [21 * mm, 28 * mm, 29 * mm, 23 * mm, 18 * mm, 14 * mm, 17 * mm, 15 * mm, 15 * mm]
    result = StockTakeLine.Result
    results = (result.FOUND, result.DAMAGED, result.MISSING)
    for line in lines:
        item = line.item
        rows.append(
            [
                SmsCode(item.sms_number, size=CODE_SIZE),
                [_one_line(item.sms_number, small, widths[1])]
                + ([p(_("added during the stock-take"))] if not line.expected else []),
                _one_line(item.cites_mark or "—", small, widths[2]),
                p(item.item_type.label()),
                p(_kg(line.expected_weight)),
                # A result already recorded is ticked; the others are boxes to tick.
                *[_TickBox(ticked=line.result == one) for one in results],
                p(_kg(line.weight_measured) if line.weight_measured is not None else ""),
            ]
        )
    table = Table(rows, colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef2f1")),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("ALIGN", (5, 1), (7, -1), "CENTER"),
                ("LEFTPADDING", (4, 0), (-1, -1), 3),
                ("RIGHTPADDING", (4, 0), (-1, -1), 3),
            ]
        )
    )
    roles = [_("Counted by"), _("Witness")]
    signatures = Table(
        [
            [p(r) for r in roles],
            [p(_("Name")) for _r in roles],
            [p(_("Signature and date")) for _r in roles],
        ],
        colWidths=[90 * mm] * 2,
        rowHeights=[8 * mm, 14 * mm, 18 * mm],
    )
    signatures.setStyle(
        TableStyle(
            [("GRID", (0, 0), (-1, -1), 0.4, colors.grey), ("VALIGN", (0, 0), (-1, -1), "TOP")]
        )
    )
    story += [table, Spacer(1, 10 * mm), signatures]

    def footer(canvas, doc_):
        canvas.saveState()
        canvas.setFont("Helvetica", 8)
        canvas.drawRightString(
            195 * mm,
            8 * mm,
            _("%(reference)s — page %(page)s")
            % {"reference": stocktake.reference, "page": doc_.page},
        )
        canvas.restoreState()

    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return out.getvalue()
