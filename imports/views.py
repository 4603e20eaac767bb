"""Pages of the register import (thin: services and selectors do the work)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from core.access import AccessAction, access_exempt, access_shows, logs_access
from core.forms import add_service_errors
from core.origin import origin_of
from stock.scope import visible_sites
from tenants.current import current_country_code

from . import selectors, services
from .forms import MappingForm, UploadForm

PERMISSION = services.PERMISSION
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _xlsx(content: bytes, name: str) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@logs_access(AccessAction.IMPORT_VIEW)
@login_required
@permission_required(PERMISSION, raise_exception=True)
def home(request):
    return render(
        request,
        "imports/home.html",
        {"form": UploadForm(), "runs": selectors.runs_recent(user=request.user)},
    )


@access_exempt(
    "keeps an uploaded file and shows the mapping step; checks are logged by the service"
)
@login_required
@permission_required(PERMISSION, raise_exception=True)
@require_POST
def upload(request):
    form = UploadForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            run = services.run_upload(
                actor=request.user,
                upload=form.cleaned_data["file"],
                photos=form.cleaned_data["photos"],
                sheet=form.cleaned_data["sheet"].strip(),
                origin=origin_of(request),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return redirect("imports:mapping", run.pk)
    runs = selectors.runs_recent(user=request.user)
    return render(request, "imports/home.html", {"form": form, "runs": runs}, status=400)


@logs_access(AccessAction.IMPORT_VIEW)
@login_required
@permission_required(PERMISSION, raise_exception=True)
def mapping(request, run_id):
    run = selectors.run_get(user=request.user, run_id=run_id)
    access_shows(request, obj=run, details={"file": run.file_name, "sha256": run.sha256})
    columns = services.country_columns()
    sites = list(visible_sites(request.user).filter(active=True))
    form = MappingForm(
        request.POST or None,
        headers=run.analysis.get("headers", []),
        columns=columns,
        matched=run.columns,
        unknown_stores=run.analysis.get("unknown_stores", {}),
        stores={k: str(v) for k, v in (run.stores or {}).items()},
        sites=sites,
    )
    if request.method == "POST" and form.is_valid():
        column_answers, store_answers = form.answers()
        try:
            run = services.mapping_save(
                actor=request.user, run=run, columns=column_answers, stores=store_answers
            )
            services.run_request(
                actor=request.user, run=run, dry_run=True, origin=origin_of(request)
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return redirect("imports:run_detail", run.pk)
    matched = {h: t for h, t in run.columns.items()}
    return render(
        request,
        "imports/mapping.html",
        {
            "run": run,
            "form": form,
            "recognised": {h for h, t in matched.items() if t in {c.key for c in columns}},
        },
    )


@logs_access(AccessAction.IMPORT_VIEW)
@login_required
@permission_required(PERMISSION, raise_exception=True)
def run_detail(request, run_id):
    run = selectors.run_get(user=request.user, run_id=run_id)
    access_shows(request, obj=run, details={"file": run.file_name, "sha256": run.sha256})
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            services.run_request(
                actor=request.user,
                run=run,
                dry_run=action == "check",
                valid_only=action == "import_valid",
                origin=origin_of(request),
            )
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        return redirect("imports:run_detail", run.pk)
    return render(request, "imports/run_detail.html", {"run": run})


@logs_access(AccessAction.IMPORT_VIEW, details={"download": "checked file"})
@login_required
@permission_required(PERMISSION, raise_exception=True)
def checked_download(request, run_id):
    run = selectors.run_get(user=request.user, run_id=run_id)
    if not run.report_file:
        raise Http404
    access_shows(request, obj=run, details={"file": run.file_name, "sha256": run.sha256})
    with run.report_file.open("rb") as handle:
        content = handle.read()
    return _xlsx(content, f"checked-{run.file_name}")


@logs_access(AccessAction.IMPORT_TEMPLATE)
@login_required
@permission_required(PERMISSION, raise_exception=True)
def template_download(request):
    content = services.template_build(actor=request.user, record=False)
    return _xlsx(content, f"register-template-{current_country_code()}.xlsx")


@logs_access(AccessAction.REGISTER_EXPORT)
@login_required
@permission_required(PERMISSION, raise_exception=True)
def export_download(request):
    content = services.register_export(actor=request.user, record=False)
    day = timezone.localdate().isoformat()
    return _xlsx(content, f"register-{current_country_code()}-{day}.xlsx")
