"""Printable item labels (PDF, rendered in memory) and the QR code of an item.

A label carries the SMS number, the CITES mark, the type, the weight (and for
a lot its pieces and bags), the store, and a QR code that encodes exactly the
SMS number ("XA-2026-000123"): a scanner — ODK Collect's barcode widget or a
USB scanner typing into a web field — yields the number itself, nothing to
strip. The transfer manifest and the stock-take sheet (custody.documents) draw
the same code with ``SmsCode``, so a code scanned anywhere reads the same.

The QR code is drawn as vector squares (no bitmap: sharp on any printer),
error correction M, with a quiet zone of two modules plus the label's white
margin. Text never breaks inside a word: a line too long for its place is set
smaller, then (type and store only) on two lines at a space, then smaller
again. Weights are written in the user's locale (the request's language).

Formats: three A4/Letter sheets of common label stock and two roll sizes (one
label per page, the page the size of the label, for roll printers).
"""

import io
from dataclasses import dataclass

import segno
from django.template.defaultfilters import floatformat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext
from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.units import inch, mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen import canvas as pdf_canvas
from reportlab.platypus import Flowable

from .templatetags.stock_ui import kg

BOLD = "Helvetica-Bold"
REGULAR = "Helvetica"
# The smallest text printed before a line goes to two lines (points).
MIN_SIZE = 5.0
# The quiet zone around the code, in modules (the label's margin adds to it).
QR_BORDER = 2
# Between the weight, pieces and bags of a lot (where its line may break).
SEPARATOR = " · "
# Between the category and the type ("Ivory — Whole tusk").
KIND_SEPARATOR = " — "


@dataclass(frozen=True)
class LabelFormat:
    key: str
    name: str
    page: tuple[float, float]
    columns: int
    rows: int
    width: float
    height: float
    left: float = 0.0
    top: float = 0.0
    # Distance from one label's left (top) edge to the next one's.
    pitch_x: float = 0.0
    pitch_y: float = 0.0

    @property
    def per_page(self) -> int:
        return self.columns * self.rows

    @property
    def roll(self) -> bool:
        return self.per_page == 1


FORMATS = {
    f.key: f
    for f in (
        LabelFormat(
            key="a4-3x7",
            name=gettext_lazy("A4 sheet, 21 labels (like Avery L7160)"),
            page=A4,
            columns=3,
            rows=7,
            width=63.5 * mm,
            height=38.1 * mm,
            left=7.2 * mm,
            top=15.15 * mm,
            pitch_x=66.0 * mm,
            pitch_y=38.1 * mm,
        ),
        LabelFormat(
            key="a4-3x8",
            name=gettext_lazy("A4 sheet, 24 labels (like Avery L7159)"),
            page=A4,
            columns=3,
            rows=8,
            width=63.5 * mm,
            height=33.9 * mm,
            left=7.2 * mm,
            top=12.9 * mm,
            pitch_x=66.0 * mm,
            pitch_y=33.9 * mm,
        ),
        LabelFormat(
            key="letter-3x10",
            name=gettext_lazy("Letter sheet, 30 labels (like Avery 5160)"),
            page=LETTER,
            columns=3,
            rows=10,
            width=2.625 * inch,
            height=1.0 * inch,
            left=0.1875 * inch,
            top=0.5 * inch,
            pitch_x=2.75 * inch,
            pitch_y=1.0 * inch,
        ),
        LabelFormat(
            key="roll-62x29",
            name=gettext_lazy("Roll, 62 × 29 mm labels"),
            page=(62 * mm, 29 * mm),
            columns=1,
            rows=1,
            width=62 * mm,
            height=29 * mm,
        ),
        LabelFormat(
            key="roll-100x50",
            name=gettext_lazy("Roll, 100 × 50 mm labels"),
            page=(100 * mm, 50 * mm),
            columns=1,
            rows=1,
            width=100 * mm,
            height=50 * mm,
        ),
    )
}
DEFAULT_FORMAT = "a4-3x7"


def format_choices() -> list[tuple[str, str]]:
    return [(f.key, str(f.name)) for f in FORMATS.values()]


# --- The QR code --------------------------------------------------------------------


def qr_matrix(sms_number: str) -> list[list[bool]]:
    """The modules of the code of ``sms_number``, quiet zone included (True: dark)."""
    code = segno.make_qr(sms_number, error="m", boost_error=False)
    return [[bool(cell) for cell in row] for row in code.matrix_iter(border=QR_BORDER)]


def qr_rectangles(matrix: list[list[bool]]) -> list[tuple[int, int, int, int]]:
    """The dark modules as rectangles (column, row, width, height), in modules
    from the top left: runs along each row, a run repeated in the rows below
    merged into one taller rectangle (a third as many shapes to draw)."""
    open_runs: dict[tuple[int, int], list[int]] = {}
    done = []
    for row_number, row in enumerate(matrix):
        runs = set()
        start = None
        for column, dark in enumerate([*row, False]):
            if dark and start is None:
                start = column
            elif not dark and start is not None:
                runs.add((start, column - start))
                start = None
        for run in list(open_runs):
            if run not in runs:
                first, height = open_runs.pop(run)
                done.append((run[0], first, run[1], height))
        for run in runs:
            if run in open_runs:
                open_runs[run][1] += 1
            else:
                open_runs[run] = [row_number, 1]
    done.extend((run[0], first, run[1], height) for run, (first, height) in open_runs.items())
    return done


def draw_qr(canvas, sms_number: str, *, x: float, y: float, size: float) -> None:
    """Draw the code of ``sms_number`` as a ``size`` square, lower-left at (x, y)."""
    matrix = qr_matrix(sms_number)
    module = size / len(matrix)
    canvas.saveState()
    # In modules from the top left: whole numbers, quick to write out.
    canvas.translate(x, y + size)
    canvas.scale(module, -module)
    canvas.setFillColorRGB(0, 0, 0)
    last = len(matrix) - 1
    # One fill per rectangle (a single path of them renders with pale seams
    # where screen renderers smooth shared edges); each reaching a hair over
    # a dark module below it, for the same reason.
    for column, row, width, height in qr_rectangles(matrix):
        bottom = row + height - 1
        joined = bottom < last and any(matrix[bottom + 1][column : column + width])
        canvas.rect(column, row, width, height + 0.06 if joined else height, stroke=0, fill=1)
    canvas.restoreState()


class SmsCode(Flowable):
    """The item's QR code in a document (the manifest, the stock-take sheet)."""

    def __init__(self, sms_number: str, size: float = 16 * mm):
        super().__init__()
        self.sms_number = sms_number
        self.size = size
        self.width = self.height = size

    def wrap(self, available_width, available_height):
        return self.size, self.size

    def draw(self):
        draw_qr(self.canv, self.sms_number, x=0, y=0, size=self.size)


# --- Text that fits -------------------------------------------------------------------


def fitted_size(text: str, font: str, *, width: float, largest: float) -> float:
    """The largest size (at most ``largest``) at which ``text`` is ``width`` wide or less."""
    natural = stringWidth(text, font, largest)
    if natural <= width or natural == 0:
        return largest
    return largest * width / natural * 0.999


def fit_lines(
    text: str, font: str, *, width: float, largest: float, at: tuple[str, ...] = (" ",)
) -> tuple[list[str], float]:
    """``text`` as one line, or two lines split at one of ``at`` (tried in
    order: " — " between category and type before a plain space; never inside
    a word, nor inside a number's non-breaking thousands separator) when that
    sets it larger than one line would. Of the cuts that give the same size,
    the most even. (lines, size)."""
    size = fitted_size(text, font, width=width, largest=largest)
    # One line unless it would be much smaller than its place allows.
    if size >= max(MIN_SIZE, largest * 0.7):
        return [text], size
    best = None
    for separator in at:
        words = text.split(separator)
        for cut in range(1, len(words)):
            lines = [separator.join(words[:cut]).strip(), separator.join(words[cut:]).strip()]
            two = min(fitted_size(line, font, width=width, largest=largest / 1.6) for line in lines)
            widest = max(stringWidth(line, font, two) for line in lines)
            if best is None or (round(two, 2), -widest) > (round(best[1], 2), -best[2]):
                best = (lines, two, widest)
        if best is not None and best[1] >= MIN_SIZE:
            break  # a cut at the first separator that reads well: keep it
    if best is not None and best[1] > size:
        return best[0], best[1]
    return [text], size


# --- What a label says --------------------------------------------------------------


@dataclass(frozen=True)
class LabelText:
    sms_number: str
    mark: str
    kind: str
    weight: str
    store: str


def label_text(item) -> LabelText:
    """The lines of ``item``'s label in the user's language and number format."""
    item_type = item.item_type
    kind = f"{item_type.category.label()}{KIND_SEPARATOR}{item_type.label()}"
    weight = kg(item.weight_kg)
    if item_type.is_lot:
        parts = [
            ngettext("%(count)s piece", "%(count)s pieces", item.pieces)
            % {"count": _count(item.pieces)}
        ]
        parts.insert(0, weight)
        if item.bags:
            parts.append(
                ngettext("%(count)s bag", "%(count)s bags", item.bags)
                % {"count": _count(item.bags)}
            )
        weight = SEPARATOR.join(parts)
    mark = item.cites_mark or pgettext("label without a CITES mark", "no CITES mark")
    store = item.site.name if item.site_id else _("in transit")
    return LabelText(item.sms_number, mark, kind, weight, store)


def _count(value) -> str:
    return floatformat(value, "0g")


def draw_label(canvas, item, *, x: float, y: float, width: float, height: float) -> None:
    """One label with its lower-left corner at (x, y)."""
    text = label_text(item)
    pad = max(1.5 * mm, min(width, height) * 0.06)
    # The code at most ~40 % of the width, so the text keeps its room.
    code = min(height - 2 * pad, width * 0.4)
    draw_qr(canvas, text.sms_number, x=x + pad, y=y + (height - code) / 2, size=code)
    left = x + pad + code + pad * 0.8
    room = x + width - pad - left
    # Shares of the height: the number is the largest line.
    lines = [
        (text.sms_number, BOLD, 1.45, None),
        (text.mark, BOLD if item.cites_mark else REGULAR, 1.0, None),
        (text.kind, REGULAR, 1.0, (KIND_SEPARATOR, " ")),
        (text.weight, REGULAR, 1.0, (SEPARATOR,)),
        (text.store, REGULAR, 1.0, (" ",)),
    ]
    unit = (height - 2 * pad) / sum(share for *_rest, share, _wrap in lines) / 1.18
    unit = min(unit, 12.0)
    laid = []
    for value, font, share, wrap_at in lines:
        largest = unit * share
        if wrap_at:
            parts, size = fit_lines(value, font, width=room, largest=largest, at=wrap_at)
        else:
            parts, size = [value], fitted_size(value, font, width=room, largest=largest)
        laid.append((parts, font, size, largest))
    used = sum(largest * 1.18 for *_rest, largest in laid)
    cursor = y + height - pad - (height - 2 * pad - used) / 2
    canvas.saveState()
    canvas.setFillColorRGB(0, 0, 0)
    for parts, font, size, largest in laid:
        block = largest * 1.18
        # Lines set on two lines share the block of one.
        step = block / len(parts)
        baseline = cursor - (step + size * 0.72) / 2
        for part in parts:
            canvas.setFont(font, size)
            # The built-in fonts have the no-break space, not the narrow one
            # some locales group thousands with.
            canvas.drawString(left, baseline, part.replace("\u202f", "\xa0"))
            baseline -= step
        cursor -= block
    canvas.restoreState()


def render_labels(items, *, label_format: str = DEFAULT_FORMAT, title: str = "") -> bytes:
    """A PDF of one label per item in ``items``, on sheets or roll pages of
    ``label_format`` (a key of FORMATS)."""
    fmt = FORMATS[label_format]
    out = io.BytesIO()
    canvas = pdf_canvas.Canvas(out, pagesize=fmt.page, pageCompression=1)
    canvas.setTitle(title or _("Labels"))
    canvas.setCreator("SMS")
    page_width, page_height = fmt.page
    position = 0
    for item in items:
        if position == fmt.per_page:
            canvas.showPage()
            position = 0
        row, column = divmod(position, fmt.columns)
        x = fmt.left + column * fmt.pitch_x
        y = page_height - fmt.top - row * fmt.pitch_y - fmt.height
        draw_label(canvas, item, x=x, y=y, width=fmt.width, height=fmt.height)
        position += 1
    canvas.showPage()
    canvas.save()
    return out.getvalue()
