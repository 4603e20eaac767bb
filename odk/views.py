"""ODK screens (country schema): connection, forms, app users and their QR
codes, "Sync now", and the review queue. Administrators only; anyone else
gets a 404 from odk.selectors."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from pyxform.errors import PyXFormError

from accounts.qr import qr_svg
from core.access import AccessAction, access_exempt, access_shows, logs_access
from core.forms import add_service_errors
from core.origin import client_ip
from core.paging import PAGE_SIZE, Keyset

from . import central, formfiles, selectors, services
from .forms import ConnectionForm, RejectForm

# Oldest first, in the order SMS received them (the time Central gives may be
# missing, and keyset paging needs keys that always exist: core.paging).
REVIEW_PAGES = Keyset("created_at", "id", size=PAGE_SIZE)


def _messages_of(exc: ValidationError) -> str:
    return " ".join(exc.messages)


# Lists the app users (store managers) and the counts of the queue.
@logs_access(AccessAction.ODK_VIEW)
@login_required
def overview(request):
    context = selectors.overview(user=request.user)
    return render(request, "odk/overview.html", context)


@access_exempt("the ODK Central connection settings (the password is never shown)")
@login_required
def connection_edit(request):
    selectors.require_odk_admin(request.user)
    conn = selectors.connection()
    initial = (
        {"base_url": conn.base_url, "username": conn.username, "project_id": conn.project_id}
        if conn
        else {}
    )
    form = ConnectionForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.connection_save(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The ODK Central connection is saved."))
            return redirect("odk:overview")
    return render(request, "odk/connection.html", {"form": form})


ACTIONS = {
    "project": (
        lambda user: services.project_create(actor=user),
        _("The Central project is ready."),
    ),
    "publish": (lambda user: services.forms_publish(actor=user), _("The forms are published.")),
    "app-users": (
        lambda user: services.app_users_sync(actor=user),
        _("Every store manager has an app user."),
    ),
    "entities": (
        lambda user: (selectors.require_odk_admin(user), services.entities_push()),
        _("The items list in Collect is up to date."),
    ),
    "sync": (lambda user: services.sync_request(actor=user), None),
}


def _sync_message(request, report: dict | None) -> None:
    """Say what "Sync now" did (it ran in the request), or that it is queued."""
    if report is None:
        messages.success(request, _("The sync has started."))
    elif report.get("central_down"):
        messages.error(request, selectors.central_down_message())
    elif report["error"]:
        messages.error(request, _("The sync stopped: %(error)s") % {"error": report["error"]})
    elif report["skipped"]:
        messages.warning(
            request, _("A sync of this country is already running; try again in a minute.")
        )
    else:
        messages.success(
            request,
            _(
                "Sync done: %(processed)s submissions processed, %(review)s waiting for "
                "review, %(unchanged)s already known."
            )
            % {
                "processed": report["processed"],
                "review": report["needs_review"],
                "unchanged": report["unchanged"],
            },
        )


@access_exempt("runs a set-up step or a sync (POST), then goes back to the ODK page")
@login_required
@require_POST
def action(request, action):
    selectors.require_odk_admin(request.user)
    if action not in ACTIONS:
        raise Http404
    run, done = ACTIONS[action]
    try:
        # A person waits: one short try, not the background's retries.
        with central.interactive():
            result = run(request.user)
    except ValidationError as exc:
        messages.error(request, _messages_of(exc))
    except central.CENTRAL_ERRORS as exc:
        if not central.did_not_answer(exc):
            messages.error(
                request, _("ODK Central did not answer as expected: %(error)s") % {"error": exc}
            )
        elif action == "sync":
            messages.error(request, selectors.central_down_message())
        else:
            messages.error(
                request,
                _("ODK Central did not answer; nothing was changed, try again in a few minutes."),
            )
    else:
        if action == "sync":
            _sync_message(request, result)
        else:
            messages.success(request, done)
    return redirect("odk:overview")


@logs_access(AccessAction.SUBMISSION_LIST)
@login_required
def review_list(request):
    page = REVIEW_PAGES.page(selectors.review_queue(user=request.user), request.GET)
    return render(request, "odk/review_list.html", {"submissions": page.rows, "page": page})


def _editable_values(submission) -> list[tuple[str, object]]:
    values = {**submission.data, **(submission.corrections or {})}
    return [
        (key, value)
        for key, value in values.items()
        if not key.startswith("__") and key != "meta" and not isinstance(value, dict | list)
    ]


@logs_access(AccessAction.SUBMISSION_VIEW)
@login_required
def review_detail(request, pk):
    submission = selectors.submission_get(user=request.user, pk=pk)
    access_shows(request, obj=submission, site=submission.review_site_id)
    reject_form = RejectForm(request.POST if request.POST.get("action") == "reject" else None)
    if request.method == "POST":
        try:
            if request.POST.get("action") == "reject":
                if reject_form.is_valid():
                    services.submission_reject(
                        actor=request.user,
                        submission=submission,
                        reason=reject_form.cleaned_data["reason"],
                    )
                    messages.success(request, _("The submission is rejected."))
                    return redirect("odk:review_list")
            else:
                values = {
                    key[len("value_") :]: value
                    for key, value in request.POST.items()
                    if key.startswith("value_")
                }
                result = services.submission_correct(
                    actor=request.user, submission=submission, values=values
                )
                if result.status == result.Status.PROCESSED:
                    messages.success(request, _("The submission is processed."))
                    return redirect("odk:review_list")
                messages.error(request, _("Some values are still not accepted."))
                submission = result
        except ValidationError as exc:
            messages.error(request, _messages_of(exc))
    return render(
        request,
        "odk/review_detail.html",
        {
            "submission": submission,
            "values": _editable_values(submission),
            "reject_form": reject_form,
        },
    )


@logs_access(AccessAction.QR_VIEW)
@login_required
def app_user_qr(request, pk):
    app_user = selectors.app_user_get(user=request.user, pk=pk)
    services.qr_view_record(actor=request.user, app_user=app_user, ip_address=client_ip(request))
    access_shows(request, obj=app_user, details={"app_user": app_user.pk})
    payload = services.collect_qr_payload(app_user=app_user)
    response = render(request, "odk/qr.html", {"app_user": app_user, "qr": qr_svg(payload)})
    # A credential: never kept by a browser or proxy cache.
    response["Cache-Control"] = "no-store"
    return response


@access_exempt("the blank forms: questions and the country's store and type lists, no stock")
@login_required
def form_download(request, kind, fmt):
    """A form as XLSForm or XForm, built now (no Central needed)."""
    selectors.require_odk_admin(request.user)
    if kind not in formfiles.KINDS or fmt not in formfiles.FORMATS:
        raise Http404
    try:
        files = formfiles.form_files(kind=kind)
    except PyXFormError as exc:
        # A country with no store or item type yet: the form has no choices.
        messages.error(request, _("The form can't be built yet: %(error)s") % {"error": exc})
        return redirect("odk:overview")
    form_file = next(f for f in files if f.name.endswith(f".{fmt}"))
    response = HttpResponse(form_file.content, content_type=form_file.content_type)
    response["Content-Disposition"] = f'attachment; filename="{form_file.name}"'
    return response
