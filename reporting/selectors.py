"""Reporting reads (country schema). Site scope comes from stock.scope
(through reporting.figures.Scope); a generated report is visible to a user
whose scope covers every site it covers (a whole-country report: users who
see every site) — anything else is Http404.
"""

import dataclasses
import datetime

from django.core.cache import cache
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.permissions import may
from core import display
from stock.scope import sees_sites

from . import cites
from .aggregates import Totals
from .documents import Document, build
from .figures import ItemFilter, Scope, country_zone
from .models import CitesFiling, ReportRun


def report_document(*, user, kind: str, params: dict, reasons: str = "") -> Document:
    """A report for the page (same builder as the exports). Call it, and read
    its tables (page_tables), inside one documents.snapshot()."""
    return build(kind, params, user=user, reasons=reasons)


# A page shows this many rows of a long list (the CITES annex); the files
# have them all.
PAGE_LIST_ROWS = 2_000


def page_tables(document: Document) -> list:
    """[(table, [row])]: the document's tables as a page shows them. A long
    list read from the database when used (the CITES annex of a large
    country, hundreds of thousands of marks) shows its first PAGE_LIST_ROWS
    rows, with a note saying how many there are and where the rest is."""
    tables = []
    for table in document.tables:
        rows = table.rows
        if not isinstance(rows, list):
            rows = rows.head(PAGE_LIST_ROWS + 1)
            if len(rows) > PAGE_LIST_ROWS:
                rows = rows[:PAGE_LIST_ROWS]
                note = _(
                    "The first %(shown)s of %(count)s rows. The XLSX and CSV files of this "
                    "report list them all."
                ) % {
                    "shown": display.count(PAGE_LIST_ROWS),
                    "count": display.count(len(table.rows)),
                }
                table = dataclasses.replace(table, note=f"{table.note} {note}".strip(), rows=rows)
        tables.append((table, rows))
    return tables


def run_list(*, user, limit: int = 50) -> list[ReportRun]:
    """Recent generated reports the user may open, newest first."""
    runs = ReportRun.objects.select_related("requested_by").order_by("-requested_at", "-id")
    visible = []
    for run in runs[: limit * 4]:
        if run.requested_by_id == user.pk and run.status != ReportRun.Status.DONE:
            visible.append(run)
        elif run.status == ReportRun.Status.DONE and sees_sites(user, run.site_ids):
            visible.append(run)
        if len(visible) >= limit:
            break
    return visible


def run_get(*, user, run_id) -> ReportRun:
    """One generated report the user may open, else Http404. A run still
    being prepared is the requester's only."""
    try:
        run = ReportRun.objects.select_related("requested_by").get(pk=int(run_id))
    except (ReportRun.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc
    if run.status != ReportRun.Status.DONE:
        if run.requested_by_id != user.pk:
            raise Http404
        return run
    if not sees_sites(user, run.site_ids):
        raise Http404
    return run


CHART_MONTHS = 24
# Short: the curves come from the aggregates (a few thousand rows), so a
# miss is cheap; the cache only spares repeated dashboard views.
CHART_SECONDS = 60


def charts_cache_key(*, user, language: str) -> str:
    """Where the dashboard's drawn charts are kept (CHART_SECONDS): one entry
    per scope, language and day, as the data they are drawn from."""
    scope = Scope.of_user(user)
    today = timezone.now().astimezone(country_zone()).date()
    scope_key = "all" if scope.site_ids is None else ",".join(map(str, sorted(scope.site_ids)))
    return f"reporting:charts-drawn:{language}:{scope_key}:{today}"


def chart_series(*, user, by: str, months: int = CHART_MONTHS, category_kinds=None) -> dict:
    """Monthly balances (end of month) for the last ``months`` months by
    "category" or "site", in the user's scope, from the aggregates (never a
    ledger replay: this is on the dashboard)."""
    scope = Scope.of_user(user)
    today = timezone.now().astimezone(country_zone()).date()
    first = (today.replace(day=1) - datetime.timedelta(days=31 * (months - 1))).replace(day=1)
    scope_key = "all" if scope.site_ids is None else ",".join(map(str, sorted(scope.site_ids)))
    kinds_key = ",".join(sorted(category_kinds or ()))
    key = f"reporting:chart:{by}:{months}:{scope_key}:{kinds_key}:{today}"
    cached = cache.get(key)
    if cached is not None:
        return cached
    item_filter = ItemFilter(category_kinds=frozenset(category_kinds)) if category_kinds else None
    result = Totals(scope=scope, item_filter=item_filter).monthly_balances(
        first=first, last=today, by=by
    )
    cache.set(key, result, CHART_SECONDS)
    return result


def cites_states(*, user) -> dict | None:
    """For the dashboard of those who file: the last ended year, its filing
    deadline and the state of each declaration. None for anyone else (and for
    a user who does not see every site: a declaration is the country's)."""
    if (
        not may(user, "reporting.file_cites_declaration")
        or Scope.of_user(user).site_ids is not None
    ):
        return None
    year = timezone.now().astimezone(country_zone()).year - 1
    filings = {f.kind: f for f in CitesFiling.objects.filter(year=year)}
    past_deadline = timezone.now().astimezone(country_zone()).date() > cites.filing_deadline(year)
    return {
        "year": year,
        "deadline": cites.filing_deadline(year),
        # Past the deadline with a declaration still unfiled.
        "overdue": past_deadline and len(filings) < len(cites.KINDS),
        "declarations": [
            {"kind": kind, "title": spec["title"], "filing": filings.get(kind)}
            for kind, spec in cites.KINDS.items()
        ],
    }


def cites_filed(*, kind: str, year: int) -> bool:
    from .models import CitesFiling

    return CitesFiling.objects.filter(kind=kind, year=year).exists()


def private_holdings(*, user) -> list:
    """The declared private ivory stocks: the country's, seen only by users
    who see every site (anyone else: Http404)."""
    from .models import PrivateHolding

    if Scope.of_user(user).site_ids is not None:
        raise Http404
    return list(PrivateHolding.objects.select_related("recorded_by"))


def sees_country(*, user) -> bool:
    return Scope.of_user(user).site_ids is None
