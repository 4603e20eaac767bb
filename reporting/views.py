"""Report screens (country schema): the reports home with charts, the
summary / year-by-year / detailed / CITES pages, export requests, the page
that follows a report being prepared, and the download.

Views parse input, call one selector or service, and render. Every report
view and every download is written to the access log (declared with
core.access, written by audit.middleware).
"""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.access import AccessAction, access_exempt, access_shows, logs_access

from . import evidence, selectors, services
from .charts import line_chart
from .cites import KINDS, year_ended
from .documents import Labels, snapshot
from .exports import CONTENT_TYPES
from .forms import FORMS, CitesFileForm, ExportForm, PrivateHoldingForm

TITLES = {
    "summary": gettext_lazy("Stock summary"),
    "yearly": gettext_lazy("Stock year by year"),
    "detail": gettext_lazy("Detailed report"),
    "cites": gettext_lazy("CITES stock declaration"),
}


def charts_for(user) -> list[tuple[str, str]]:
    """[(title, svg)]: stock weight at each month end, by category and by site.
    Drawn once per scope, language and CHART_SECONDS (the dashboard shows
    them on every visit; their labels alone took three queries)."""
    key = selectors.charts_cache_key(user=user, language=get_language() or "")
    drawn = cache.get(key)
    if drawn is not None:
        return drawn
    drawn = _draw_charts(user)
    cache.set(key, drawn, selectors.CHART_SECONDS)
    return drawn


def _draw_charts(user) -> list[tuple[str, str]]:
    labels = Labels()
    charts = []
    for by, title in (
        ("category", _("Stock over time by category (kg, end of month)")),
        ("site", _("Stock over time by site (kg, end of month)")),
    ):
        data = selectors.chart_series(user=user, by=by)
        charts.append(
            (
                title,
                line_chart(
                    months=data["months"],
                    series=data["series"],
                    label_of=lambda key, by=by: labels.value(by, key),
                    title=title,
                ),
            )
        )
    return charts


@logs_access(AccessAction.REPORT_VIEW, details={"report": "home"})
@login_required
@permission_required("reporting.view_reports", raise_exception=True)
def home(request):
    return render(
        request,
        "reporting/home.html",
        {
            "charts": charts_for(request.user),
            "runs": selectors.run_list(user=request.user, limit=20),
            "sees_country": selectors.sees_country(user=request.user),
        },
    )


def _report_kind(kind: str) -> str:
    if kind not in FORMS:
        raise Http404
    return kind


@logs_access(AccessAction.REPORT_VIEW)
@login_required
@permission_required("reporting.view_reports", raise_exception=True)
def report(request, kind):
    kind = _report_kind(kind)
    form_class = FORMS[kind]
    data = request.GET if request.GET else form_class.initial_data()
    form = form_class(data, user=request.user)
    document, rows = None, []
    if form.is_valid():
        params = form.params()
        with snapshot():
            document = selectors.report_document(user=request.user, kind=kind, params=params)
            tables = selectors.page_tables(document)
        access_shows(request, details={"report": kind, **params})
        detail_url = reverse("reporting:report", args=["detail"])
        for table, table_rows in tables:
            links = [f"{detail_url}?{urlencode(link)}" if link else "" for link in table.links] + [
                ""
            ] * (len(table_rows) - len(table.links))
            rows.append(
                (
                    table,
                    [(row, links[i], i in table.strong_rows) for i, row in enumerate(table_rows)],
                )
            )
    detail_page = None
    if kind == "detail" and rows:
        rows[0], detail_page = _detail_page(rows[0], request.GET.get("page"))
    if hasattr(data, "lists"):
        data = data.copy()
        data.pop("page", None)
    query = urlencode(list(data.lists()) if hasattr(data, "lists") else data, doseq=True)
    return render(
        request,
        "reporting/report.html",
        {
            "kind": kind,
            "title": TITLES[kind],
            "form": form,
            "document": document,
            "tables": rows,
            "query": query,
            "hidden": [
                (name, value)
                for name, values in (data.lists() if hasattr(data, "lists") else _as_lists(data))
                for value in values
            ],
            "export_form": ExportForm(),
            "file_form": _file_form(request.user, kind, document, form),
            "charts": charts_for(request.user) if kind in ("summary", "yearly") else [],
            "detail_page": detail_page,
        },
    )


# The detailed report on screen: this many item lines a page (the export has them all).
DETAIL_PAGE_ROWS = 100


def _detail_page(table_rows, asked):
    """One page of the detailed report's lines, the total line kept under
    each page, and where the page sits (number, count, first and last line)."""
    table, lines = table_rows
    body = [line for line in lines if not line[2]]
    totals = [line for line in lines if line[2]]
    count = max(1, -(-len(body) // DETAIL_PAGE_ROWS))
    try:
        number = min(max(int(asked or 1), 1), count)
    except (TypeError, ValueError):
        number = 1
    start = (number - 1) * DETAIL_PAGE_ROWS
    shown = body[start : start + DETAIL_PAGE_ROWS]
    page = {
        "number": number,
        "count": count,
        "lines": len(body),
        "first": start + 1 if shown else 0,
        "last": start + len(shown),
        "previous": number - 1 if number > 1 else None,
        "next": number + 1 if number < count else None,
    }
    return (table, shown + totals), page


def _file_form(user, kind, document, form):
    """The filing form under a declaration its viewer may file: a year that
    has ended, not filed yet, seen whole; the reasons start from the text
    the declaration shows (the system's summary of the year)."""
    if kind != "cites" or document is None or not user.has_perm("reporting.file_cites_declaration"):
        return None
    params = form.params()
    if document.site_ids is not None or not year_ended(params["year"]):
        return None
    if selectors.cites_filed(kind=params["cites_kind"], year=params["year"]):
        return None
    reasons = document.paragraphs[0][1] if document.paragraphs else ""
    return {
        "form": CitesFileForm(initial={"reasons": reasons}),
        "kind": params["cites_kind"],
        "year": params["year"],
    }


def _as_lists(data: dict):
    for name, value in data.items():
        yield name, value if isinstance(value, list) else [value]


@access_exempt("asks for an export (POST); the file is logged when downloaded")
@require_POST
@login_required
@permission_required("reporting.export_reports", raise_exception=True)
def export(request, kind):
    kind = _report_kind(kind)
    form = FORMS[kind](request.POST, user=request.user)
    export_form = ExportForm(request.POST)
    if not (form.is_valid() and export_form.is_valid()):
        messages.error(request, _("Check the report's settings, then export again."))
        return redirect(reverse("reporting:report", args=[kind]))
    try:
        run = services.report_request(
            actor=request.user,
            kind=kind,
            fmt=export_form.cleaned_data["format"],
            title=form.title(),
            params=form.params(),
            reasons=export_form.cleaned_data.get("reasons", "") if kind == "cites" else "",
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(reverse("reporting:report", args=[kind]))
    return redirect("reporting:run_detail", run_id=run.pk)


@access_exempt(
    "a generated report's title, settings and state; its content is logged when downloaded"
)
@login_required
@permission_required("reporting.view_reports", raise_exception=True)
def run_detail(request, run_id):
    run = selectors.run_get(user=request.user, run_id=run_id)
    return render(request, "reporting/run_detail.html", {"run": run})


@logs_access(AccessAction.EXPORT)
@login_required
@permission_required("reporting.view_reports", raise_exception=True)
def run_download(request, run_id):
    run = selectors.run_get(user=request.user, run_id=run_id)
    if not run.is_ready:
        raise Http404
    access_shows(
        request,
        obj=run,
        details={
            "report": run.kind,
            "format": run.format,
            "sha256": run.sha256,
            "parameters": run.parameters,
        },
    )
    # Checked against the SHA-256 recorded when it was made: a changed or
    # missing file is never handed out as the report.
    check, handle = evidence.run_open_checked(run)
    if handle is None or not check.ok:
        if handle is not None:
            handle.close()
        return render(
            request,
            "reporting/run_unavailable.html",
            {"run": run, "check": check},
            status=409 if check.status == "mismatch" else 404,
        )
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=run.filename.split("-", 1)[-1],
        content_type=CONTENT_TYPES[run.format],
    )
    response["X-Content-SHA256"] = run.sha256
    return response


@access_exempt("the titles and states of generated reports; each is logged when downloaded")
@login_required
@permission_required("reporting.view_reports", raise_exception=True)
def run_list(request):
    return render(
        request,
        "reporting/run_list.html",
        {"runs": selectors.run_list(user=request.user, limit=100)},
    )


@access_exempt("files a declaration (POST); the filing is its own lasting record")
@require_POST
@login_required
@permission_required("reporting.file_cites_declaration", raise_exception=True)
def cites_file(request, cites_kind, year):
    """File the country's declaration as shown (the reasons as edited)."""
    if cites_kind not in KINDS:
        raise Http404
    form = CitesFileForm(request.POST)
    query = urlencode({"cites_kind": cites_kind, "year": year})
    back = f"{reverse('reporting:report', args=['cites'])}?{query}"
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(back)
    try:
        services.cites_file(
            actor=request.user,
            kind=cites_kind,
            year=year,
            reasons=form.cleaned_data["reasons"],
        )
    except ValidationError as exc:
        for error in exc.messages:
            messages.error(request, error)
        return redirect(back)
    messages.success(request, _("The declaration has been filed."))
    return redirect(back)


@logs_access(AccessAction.REPORT_VIEW, details={"report": "private_holdings"})
@login_required
@permission_required("reporting.view_reports", raise_exception=True)
def private_holdings(request):
    """The register of declared private ivory stocks, and (for those who
    file) the form to record one."""
    holdings = selectors.private_holdings(user=request.user)
    may_record = request.user.has_perm("reporting.file_cites_declaration")
    form = PrivateHoldingForm(request.POST or None) if may_record else None
    if request.method == "POST":
        if not may_record:
            raise PermissionDenied
        if form.is_valid():
            try:
                services.private_holding_record(actor=request.user, data=form.cleaned_data)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("The private stock has been recorded."))
                return redirect("reporting:private_holdings")
    return render(
        request,
        "reporting/private_holdings.html",
        {"holdings": holdings, "form": form},
    )
