"""The item list's working tools: its sort orders, its result count, the
thumbnails of a page and the export of exactly the filtered list.

Read-only, and always over rows that came through stock.selectors (the
user's scope, then the list's FilterSet): nothing here widens what a user
sees. Kept apart from views.py and filters.py so the list's speed work and
this stay easy to merge.
"""

import datetime
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import OuterRef, QuerySet, Subquery, Sum
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from core.paging import PAGE_SIZE, Keyset
from core.spreadsheet import CsvWriter, xlsx_value

from .models import ItemPhoto, ItemType, StockItem, StockTotal
from .scope import restrict_to_scope

# --- Sorting -------------------------------------------------------------------------

# Each order is an index of the item table read forwards or backwards
# (stock_item_recv_number, the unique SMS number, stock_item_weight_number),
# and ends with the unique SMS number, so keyset paging (core.paging) works
# with every one of them. The query string says ?sort=weight or ?sort=-weight.
SORTS = {
    "-received": (_("Received, newest first"), ("-received_on", "-sms_number")),
    "received": (_("Received, oldest first"), ("received_on", "sms_number")),
    "number": (_("SMS number, A to Z"), ("sms_number",)),
    "-number": (_("SMS number, Z to A"), ("-sms_number",)),
    "-weight": (_("Weight, heaviest first"), ("-weight_kg", "-sms_number")),
    "weight": (_("Weight, lightest first"), ("weight_kg", "sms_number")),
}
DEFAULT_SORT = "-received"
# The columns whose heading sorts the list: column -> (first click, other way).
SORTABLE_COLUMNS = {"number": "number", "weight": "-weight", "received": "-received"}

_PAGERS = {key: Keyset(*ordering, size=PAGE_SIZE) for key, (_label, ordering) in SORTS.items()}


# The item list reads only the columns its rows show and its sorts order
# by (41 columns made into instances, 50 rows a page, cost more than the
# query). stock.views.list_rows and stock_ui.item_rows read no other field:
# one they read beyond these would cost a query per row
# (tests/stock/test_page_costs.py counts the page's statements).
LIST_COLUMNS = (
    "id",
    "sms_number",
    "cites_mark",
    "item_type_id",
    "site_id",
    "status",
    "weight_kg",
    "weight_is_final",
    "pieces",
    "received_on",
)


def sort_of(params) -> str:
    """The list's sort as the query string asks for it (the default for anything else)."""
    key = (params or {}).get("sort") or DEFAULT_SORT
    return key if key in SORTS else DEFAULT_SORT


def pager(sort: str) -> Keyset:
    return _PAGERS.get(sort, _PAGERS[DEFAULT_SORT])


def ordering(sort: str) -> tuple[str, ...]:
    return SORTS.get(sort, SORTS[DEFAULT_SORT])[1]


def _query(params, *, without=()) -> str:
    """``params`` (a request's GET) as a query string, less the keys named."""
    kept = params.copy()
    for key in without:
        kept.pop(key, None)
    return kept.urlencode()


def sort_links(params, sort: str) -> dict:
    """For each sortable column: the ``sort`` value its heading links to,
    its ``href`` (the list's filters kept, on its first page) and the arrow
    it shows (▲ ascending, ▼ descending, "" when not sorted by it). The
    query string is encoded once for the three headings."""
    base = _query(params, without=("sort", "after", "before"))
    links = {}
    for column, first in SORTABLE_COLUMNS.items():
        name = first.lstrip("-")
        if sort.lstrip("-") == name:
            value = name if sort.startswith("-") else f"-{name}"
            arrow = "▼" if sort.startswith("-") else "▲"
        else:
            value, arrow = first, ""
        href = f"?{base}&sort={value}" if base else f"?sort={value}"
        links[column] = {"sort": value, "arrow": arrow, "href": href}
    return links


def export_query(params) -> str:
    """The query string of the list's export links: its filters and sort,
    not its page (the export is the whole list)."""
    return "?" + _query(params, without=("after", "before"))


# --- Counting ------------------------------------------------------------------------

# Filters the stock totals (one row per store, type and status) answer exactly:
# a list filtered by nothing else is counted without touching the item table.
TOTALS_FILTERS = {"site", "category", "item_type", "status"}
# Any other filter (a search, the source, dates): the rows are counted up to
# this many, then the page says "more than 500" — a count never costs more
# than reading this many index entries, at a million items too.
COUNT_CAP = 500


@dataclass(frozen=True)
class ResultCount:
    number: int
    # True: at least ``number`` (the cap was reached).
    more: bool = False


def result_count(*, user, filterset) -> ResultCount | None:
    """How many items the list shows over all its pages (None when the
    filters were refused, the list then being empty anyway)."""
    active = filterset.active()
    if filterset.is_bound and filterset.form.errors:
        return None
    if set(active) <= TOTALS_FILTERS:
        totals = restrict_to_scope(StockTotal.objects.all(), user)
        status = active.get("status")
        if status:
            totals = totals.filter(status=status)
        else:
            totals = totals.exclude(status=StockItem.Status.ARCHIVED)
        if active.get("site"):
            totals = totals.filter(site_id=active["site"].pk)
        if active.get("item_type"):
            totals = totals.filter(item_type_id=active["item_type"].pk)
        if active.get("category"):
            type_ids = filterset.catalogue.type_ids_of_category(active["category"].pk)
            totals = totals.filter(item_type_id__in=type_ids)
        number = totals.aggregate(n=Sum("items"))["n"] or 0
        return ResultCount(number=max(number, 0))
    capped = filterset.qs.order_by()[: COUNT_CAP + 1].values("pk")
    number = capped.count()
    if number > COUNT_CAP:
        return ResultCount(number=COUNT_CAP, more=True)
    return ResultCount(number=number)


# --- Thumbnails ----------------------------------------------------------------------


def with_thumbnails(queryset: QuerySet) -> QuerySet:
    """Each item with ``thumbnail_id``: its first photo's id (or None), in the
    list's own query (an index lookup per row of the page) rather than a
    query of its own."""
    first = ItemPhoto.objects.filter(item_id=OuterRef("pk")).order_by("uploaded_at", "pk")
    return queryset.annotate(thumbnail_id=Subquery(first.values("pk")[:1]))


def attach_thumbnails(items) -> None:
    """Give each item of a page (from ``with_thumbnails``) with a photo its
    ``thumbnail_url``."""
    # One reverse for the page: every thumbnail's address differs only by its id.
    marker = "00000000-0000-0000-0000-000000000000"
    address = reverse("stock:photo_thumbnail", args=[marker])
    for item in items:
        if item.thumbnail_id is not None:
            item.thumbnail_url = address.replace(marker, str(item.thumbnail_id))


# --- Export of the filtered list ------------------------------------------------------

EXPORT_FORMATS = ("csv", "xlsx")
# XLSX holds at most 1,048,576 rows; a longer list is exported as CSV.
XLSX_MAX_ROWS = 1_048_575


def export_header() -> list[str]:
    return [
        str(_("SMS number")),
        str(_("CITES mark")),
        str(_("Category")),
        str(_("Type")),
        str(_("Species")),
        str(_("Store")),
        str(_("Weight (kg)")),
        str(_("Provisional weight")),
        str(_("Pieces")),
        str(_("Status")),
        str(_("Received on")),
        str(_("Source")),
        str(_("Legal status")),
        str(_("Case reference")),
        str(_("Exhibit reference")),
    ]


def export_rows(queryset, *, sort: str):
    """The rows of the export, in the list's order: numbers as numbers, dates
    as dates (core.spreadsheet writes them; text is neutralised there).

    Read in one transaction through a server-side cursor planned for the
    whole result (``cursor_tuple_fraction = 1``): PostgreSQL's default plans a
    cursor for its first rows, which for one store of a million items meant
    walking the whole date index (16 s for 15,684 rows in bench/item_list_tools.py)
    instead of reading that store's rows and sorting them."""
    labels = {
        "status": {k: str(v) for k, v in StockItem.Status.choices},
        "source": {k: str(v) for k, v in StockItem.Source.choices},
        "legal_status": {k: str(v) for k, v in StockItem.LegalStatus.choices},
    }
    types = {
        t.pk: (t.category.label(), t.label()) for t in ItemType.objects.select_related("category")
    }
    provisional = str(_("Yes"))
    # Plain tuples, not model instances: a row costs a tenth.
    rows = queryset.order_by(*ordering(sort)).values_list(
        "sms_number",
        "cites_mark",
        "item_type_id",
        "species",
        "site__name",
        "weight_kg",
        "weight_is_final",
        "pieces",
        "status",
        "received_on",
        "source",
        "legal_status",
        "case_reference",
        "exhibit_reference",
    )
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL cursor_tuple_fraction = 1.0")
        for (
            number,
            mark,
            type_id,
            species,
            store,
            weight,
            final,
            pieces,
            status,
            received,
            source,
            legal,
            case,
            exhibit,
        ) in rows.iterator(chunk_size=2000):
            category, type_label = types.get(type_id, ("", str(type_id)))
            yield [
                number,
                mark or "",
                category,
                type_label,
                species,
                store,
                weight,
                "" if final else provisional,
                pieces,
                labels["status"].get(status, status),
                received,
                labels["source"].get(source, source),
                labels["legal_status"].get(legal, legal),
                case,
                exhibit,
            ]


class _Echo:
    """A pseudo-file whose write gives back what it was given (streamed CSV)."""

    def write(self, value):
        return value


def csv_lines(queryset, *, sort: str):
    """The CSV, line by line, for a StreamingHttpResponse: a byte-order mark
    (spreadsheet programs then read UTF-8), the header, then one line per item.
    The lines are written after the view has returned: the user's language is
    taken now and kept for them."""
    language = translation.get_language()

    def lines():
        with translation.override(language):
            writer = CsvWriter(_Echo())
            yield "\ufeff" + writer.writerow(export_header())
            for row in export_rows(queryset, sort=sort):
                yield writer.writerow(row)

    return lines()


def xlsx_file(queryset, *, sort: str):
    """The XLSX in a temporary file (XlsxWriter in constant-memory mode: each
    row goes to disk as it is written), rewound, for a FileResponse."""
    import tempfile  # noqa: PLC0415

    import xlsxwriter  # noqa: PLC0415 (loaded only for an export)

    handle = tempfile.TemporaryFile()
    workbook = xlsxwriter.Workbook(
        handle,
        {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    sheet = workbook.add_worksheet(str(_("Items")))
    head = workbook.add_format({"bold": True, "bg_color": "#DDE4EE"})
    kg = workbook.add_format({"num_format": "#,##0.000"})
    whole = workbook.add_format({"num_format": "#,##0"})
    day = workbook.add_format({"num_format": "dd/mm/yyyy"})
    for column, label in enumerate(export_header()):
        sheet.write_string(0, column, xlsx_value(label), head)
    sheet.set_column(0, 1, 18)
    sheet.set_column(2, 5, 20)
    sheet.set_column(10, 10, 12)
    for index, row in enumerate(export_rows(queryset, sort=sort), start=1):
        if index > XLSX_MAX_ROWS:
            break
        for column, value in enumerate(row):
            if value in (None, ""):
                continue
            if column == 6:
                sheet.write_number(index, column, float(value), kg)
            elif column == 8:
                sheet.write_number(index, column, int(value), whole)
            elif column == 10:
                sheet.write_datetime(
                    index, column, datetime.datetime(value.year, value.month, value.day), day
                )
            else:
                sheet.write_string(index, column, xlsx_value(str(value)))
    sheet.freeze_panes(1, 0)
    workbook.close()
    handle.seek(0)
    return handle
