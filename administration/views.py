"""Administration screens on a country host (country schema): users, roles,
support access, settings, the access log and the change oversight.

Views parse input, call one selector or service, and render. Every page needs
a permission (403 otherwise): ``accounts.manage_users`` for people, roles,
support access and settings; ``accounts.view_access_log`` for the activity
and change pages; ``administration.approve_correction`` for approvals.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from accounts.permission_labels import permission_label
from accounts.roles import ROLES
from audit.selectors import access_event_filter, access_event_list
from core import display
from core.access import AccessAction, access_exempt, access_shows, logs_access
from core.forms import add_service_errors
from core.origin import origin_of
from core.paging import PAGE_SIZE, Keyset
from core.spreadsheet import CsvWriter
from stock import wording
from stock.scope import reach_of

from . import activity_words, selectors, services
from .forms import (
    CountrySettingsForm,
    DecisionForm,
    InviteForm,
    RoleForm,
    SupportGrantForm,
    UserEditForm,
)
from .models import PendingCorrection

CSV_LIMIT = 100_000
MANAGE = "accounts.manage_users"
VIEW_LOG = "accounts.view_access_log"
APPROVE = "administration.approve_correction"


def _role_names(user) -> str:
    labels = {role.name: str(role.label) for role in ROLES.values()}
    return ", ".join(labels.get(g.name, g.name) for g in user.groups.all())


# --- People ----------------------------------------------------------------------------


@logs_access(AccessAction.USER_LIST)
@login_required
@permission_required(MANAGE, raise_exception=True)
def user_list(request):
    support_ids = selectors.support_account_ids()
    rows = [
        {
            "user": user,
            "role": _role_names(user),
            "sites": [site.name for site in user.scoped_sites.all()],
            "support": user.pk in support_ids,
        }
        for user in selectors.user_list(actor=request.user)
    ]
    return render(
        request,
        "administration/user_list.html",
        {"rows": rows, "all_sites": reach_of(request.user).every_site},
    )


@access_exempt("the invitation form; an invitation is logged by its service")
@login_required
@permission_required(MANAGE, raise_exception=True)
@require_http_methods(["GET", "POST"])
def user_invite(request):
    form = InviteForm(request.POST or None, actor=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = services.user_invite(
                actor=request.user,
                country=request.tenant,
                username=data["username"],
                email=data["email"],
                full_name=data["full_name"],
                role=data["role"],
                all_sites=data["all_sites"],
                sites=data["sites"],
                origin=origin_of(request),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                _(
                    "%(name)s is invited. The e-mail with the link to choose a password is sent to %(email)s."
                )
                % {"name": user.display_name, "email": user.email},
            )
            return redirect("administration:user_detail", user_id=user.pk)
    return render(request, "administration/user_invite.html", {"form": form})


@logs_access(AccessAction.USER_VIEW)
@login_required
@permission_required(MANAGE, raise_exception=True)
@require_http_methods(["GET", "POST"])
def user_detail(request, user_id):
    person = selectors.user_get(actor=request.user, user_id=user_id)
    access_shows(request, obj=person)
    is_support = person.pk in selectors.support_account_ids()
    initial = {
        "full_name": person.full_name,
        "role": person.groups.first(),
        "all_sites": person.all_sites,
        "sites": list(person.scoped_sites.all()),
    }
    form = UserEditForm(request.POST or None, actor=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            changed = services.user_update(
                actor=request.user,
                user=person,
                role=data["role"],
                all_sites=data["all_sites"],
                sites=data["sites"],
                full_name=data["full_name"],
                origin=origin_of(request),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            if changed:
                messages.success(request, _("The changes are saved."))
            else:
                messages.info(request, _("Nothing was changed."))
            return redirect("administration:user_detail", user_id=person.pk)
    return render(
        request,
        "administration/user_detail.html",
        {
            "person": person,
            "form": form,
            "role": _role_names(person),
            "is_self": person.pk == request.user.pk,
            "is_support": is_support,
            "recent": _with_site_names(
                access_event_list(user=request.user, filters={"user": person})[:10]
            ),
        },
    )


USER_ACTIONS = {
    "deactivate": {
        "service": services.user_deactivate,
        "title": gettext_lazy("Deactivate %(name)s?"),
        "explain": gettext_lazy(
            "They will be signed out and can no longer sign in. Nothing they did is "
            "deleted: their name stays on everything they registered or changed. "
            "You can reactivate the account later."
        ),
        "button": gettext_lazy("Yes, deactivate"),
        "done": gettext_lazy("%(name)s is deactivated."),
    },
    "reactivate": {
        "service": services.user_reactivate,
        "title": gettext_lazy("Reactivate %(name)s?"),
        "explain": gettext_lazy("They will be able to sign in again with their password."),
        "button": gettext_lazy("Yes, reactivate"),
        "done": gettext_lazy("%(name)s can sign in again."),
    },
    "reset-2fa": {
        "service": services.user_two_factor_reset,
        "title": gettext_lazy("Reset the two-step sign-in of %(name)s?"),
        "explain": gettext_lazy(
            "For a lost or changed phone. Their authenticator app and backup codes "
            "stop working; they set up a new app at their next sign-in."
        ),
        "button": gettext_lazy("Yes, reset"),
        "done": gettext_lazy("The two-step sign-in of %(name)s is reset."),
    },
    "end-sessions": {
        "service": services.user_sessions_end,
        "title": gettext_lazy("Sign %(name)s out everywhere?"),
        "explain": gettext_lazy(
            "Every open session of this person ends now, on every computer or tablet. "
            "They can sign in again."
        ),
        "button": gettext_lazy("Yes, sign them out"),
        "done": gettext_lazy("All sessions of %(name)s have ended."),
    },
}


@access_exempt(
    "asks to confirm an action on a person (named only); the action is logged by its service"
)
@login_required
@permission_required(MANAGE, raise_exception=True)
@require_http_methods(["GET", "POST"])
def user_action(request, user_id, action):
    spec = USER_ACTIONS.get(action)
    if spec is None:
        raise Http404
    person = selectors.user_get(actor=request.user, user_id=user_id)
    names = {"name": person.display_name}
    if request.method == "POST":
        try:
            spec["service"](actor=request.user, user=person, origin=origin_of(request))
        except (ValidationError, PermissionDenied) as error:
            messages.error(request, " ".join(getattr(error, "messages", None) or [str(error)]))
        else:
            messages.success(request, str(spec["done"]) % names)
        return redirect("administration:user_detail", user_id=person.pk)
    return render(
        request,
        "administration/confirm.html",
        {
            "title": str(spec["title"]) % names,
            "explain": spec["explain"],
            "button": spec["button"],
            "danger": action in ("deactivate", "end-sessions"),
            "back_href": reverse("administration:user_detail", args=[person.pk]),
        },
    )


# --- Roles --------------------------------------------------------------------------------


@access_exempt("roles and their permissions: no people")
@login_required
@permission_required(MANAGE, raise_exception=True)
def role_list(request):
    built_in = {role.name: role for role in ROLES.values()}
    groups = selectors.role_list()
    rows = [
        {
            "group": group,
            "label": built_in[group.name].label if group.name in built_in else group.name,
            "built_in": group.name in built_in,
            "permissions": sorted(
                permission_label(p) for p in group.permissions.select_related("content_type")
            ),
        }
        for group in groups
    ]
    return render(request, "administration/role_list.html", {"rows": rows})


@access_exempt("a role and its permissions: no people; saving is logged by its service")
@login_required
@permission_required(MANAGE, raise_exception=True)
@require_http_methods(["GET", "POST"])
def role_edit(request, role_id=None):
    from django.contrib.auth.models import Group

    role = None
    initial = {}
    if role_id is not None:
        role = get_object_or_404(Group, pk=role_id)
        if role.name in services.BUILT_IN_ROLE_NAMES:
            raise Http404
        initial = {"name": role.name, "permissions": list(role.permissions.all())}
    form = RoleForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.role_save(
                actor=request.user,
                role=role,
                name=form.cleaned_data["name"],
                permissions=form.cleaned_data["permissions"],
                origin=origin_of(request),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("The role “%(name)s” is saved.") % {"name": saved.name})
            return redirect("administration:role_list")
    return render(request, "administration/role_form.html", {"form": form, "role": role})


# --- Support access ---------------------------------------------------------------------


# The platform staff given access and their support accounts.
@logs_access(AccessAction.SUPPORT_LIST)
@login_required
@permission_required(MANAGE, raise_exception=True)
@require_http_methods(["GET", "POST"])
def support_list(request):
    form = SupportGrantForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            grant = services.support_grant(
                actor=request.user,
                country=request.tenant,
                staff=form.cleaned_data["staff"],
                valid_until=form.valid_until(),
                read_only=form.cleaned_data["read_only"],
                reason=form.cleaned_data["reason"],
                origin=origin_of(request),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                _(
                    "%(staff)s can use the account %(account)s until %(until)s. "
                    "They receive an e-mail with a link to choose its password."
                )
                % {
                    "staff": grant.staff_username,
                    "account": grant.user.username,
                    "until": display.when(grant.valid_until),
                },
            )
            return redirect("administration:support_list")
    return render(
        request,
        "administration/support_list.html",
        {
            "form": form,
            "grants": selectors.support_grant_list(actor=request.user),
            "now": timezone.now(),
        },
    )


@access_exempt("asks to confirm the end of a support access; the end is logged by its service")
@login_required
@permission_required(MANAGE, raise_exception=True)
@require_http_methods(["GET", "POST"])
def support_revoke(request, grant_id):
    grant = selectors.support_grant_get(actor=request.user, grant_id=grant_id)
    if request.method == "POST":
        services.support_revoke(
            actor=request.user, country=request.tenant, grant=grant, origin=origin_of(request)
        )
        messages.success(request, _("The support access has ended."))
        return redirect("administration:support_list")
    return render(
        request,
        "administration/confirm.html",
        {
            "title": _("End the support access of %(staff)s now?")
            % {"staff": grant.staff_username},
            "explain": _("The support account is signed out and can no longer sign in."),
            "button": _("Yes, end it now"),
            "danger": True,
            "back_href": reverse("administration:support_list"),
        },
    )


# --- Country settings ---------------------------------------------------------------------


@access_exempt("the country's settings; a change is logged by its service")
@login_required
@permission_required(MANAGE, raise_exception=True)
@require_http_methods(["GET", "POST"])
def country_settings(request):
    # The settings reach every store: an administrator of some sites sees them, read-only.
    may_change = selectors.may_change_country(actor=request.user)
    if request.method == "POST" and not may_change:
        raise PermissionDenied(
            _("Only an administrator of all sites changes the country's settings.")
        )
    country = request.tenant
    form = CountrySettingsForm(
        request.POST or None,
        initial={
            "corrections_need_approval": country.corrections_need_approval,
            "idle_session_minutes": country.idle_session_minutes,
        },
    )
    if not may_change:
        for field in form.fields.values():
            field.disabled = True
    if request.method == "POST" and form.is_valid():
        try:
            services.country_settings_update(
                actor=request.user,
                country=country,
                origin=origin_of(request),
                **form.cleaned_data,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("The settings are saved."))
            return redirect("administration:settings")
    return render(request, "administration/settings.html", {"form": form, "may_change": may_change})


# --- Access log ---------------------------------------------------------------------------


def _with_site_names(events) -> list:
    # The details in words, with links to what was seen (administration.activity_words).
    events = activity_words.describe(events)
    names = selectors.site_names() if any(e.site_id for e in events) else {}
    for event in events:
        event.site_name = names.get(event.site_id, "")
    return events


# The newest first, one page older per "before" cursor: the parameter's name
# (an id "before" which the page starts) is the one links already carry.
ACTIVITY_PAGES = Keyset("-id", size=PAGE_SIZE, next_param="before", previous_param="after")
CHANGE_PAGES = Keyset("-changed_at", "-id", size=PAGE_SIZE)


@logs_access(AccessAction.ACTIVITY_VIEW)
@login_required
@permission_required(VIEW_LOG, raise_exception=True)
def activity(request):
    filterset = access_event_filter(user=request.user, data=request.GET)
    page = ACTIVITY_PAGES.page(filterset.qs, request.GET)
    filters = filterset.active()
    access_shows(request, filters={**filters, **page.asked})
    query = request.GET.copy()
    for name in (ACTIVITY_PAGES.next_param, ACTIVITY_PAGES.previous_param):
        query.pop(name, None)
    return render(
        request,
        "administration/activity.html",
        {
            "form": filterset.form,
            "rows": _with_site_names(page.rows),
            "page": page,
            "next_cursor": page.next_cursor,
            "is_first_page": page.is_first,
            "query": query.urlencode(),
            "filtered": filterset.filtered,
        },
    )


class _Echo:
    def write(self, value):
        return value


@logs_access(AccessAction.ACTIVITY_EXPORT)
@login_required
@permission_required(VIEW_LOG, raise_exception=True)
def activity_csv(request):
    filterset = access_event_filter(user=request.user, data=request.GET)
    access_shows(request, filters=filterset.active())
    events = filterset.qs[:CSV_LIMIT]
    sites = selectors.site_names()
    # Every field through core.spreadsheet: a login name or User-Agent that
    # starts like a formula must stay text in the administrator's spreadsheet.
    writer = CsvWriter(_Echo())
    header = [
        _("Time"),
        _("Username"),
        _("Full name"),
        _("Action"),
        _("Object type"),
        _("Object id"),
        _("Object"),
        _("Site"),
        _("IP address"),
        _("Browser"),
        _("Details"),
    ]

    # The country's zone, taken now: the lines are written after the request's
    # middleware has put the default zone back.
    zone = timezone.get_current_timezone()

    def lines():
        import json

        yield writer.writerow(header)
        for event in events.iterator(chunk_size=2000):
            yield writer.writerow(
                [
                    # The country's time with its offset (2026-08-20T09:07:12+03:00).
                    display.local(event.at, zone).isoformat(timespec="seconds"),
                    event.username,
                    event.user.display_name if event.user else "",
                    event.get_action_display(),
                    event.object_type,
                    event.object_id,
                    event.object_repr,
                    sites.get(event.site_id, ""),
                    event.ip_address or "",
                    event.user_agent,
                    json.dumps(event.details, ensure_ascii=False) if event.details else "",
                ]
            )

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="access-log-{stamp}.csv"'
    return response


# --- Oversight of changes ----------------------------------------------------------------


@logs_access(AccessAction.CHANGES_VIEW)
@login_required
@permission_required(VIEW_LOG, raise_exception=True)
def changes(request):
    filterset = selectors.item_change_filter(user=request.user, data=request.GET)
    page = CHANGE_PAGES.page(filterset.qs, request.GET)
    filters = filterset.active()
    field_rows = []
    if not filters.get("site") and not filters.get("item"):
        # Custom field definitions belong to no store and no item.
        field_rows = list(
            selectors.field_change_list(user=request.user, filters=request.GET)[:PAGE_SIZE]
        )
    access_shows(request, filters={**filters, **page.asked})
    # In words: "Field: old → new", labels in the user's language.
    definitions = wording.custom_definitions()
    for change in page.rows:
        change.label = wording.item_field_label(change.field, definitions)
        change.old_text = wording.value_text(change.field, change.old_value, definitions)
        change.new_text = wording.value_text(change.field, change.new_value, definitions)
    for change in field_rows:
        change.rows = wording.definition_changes(change.before, change.after)
    return render(
        request,
        "administration/changes.html",
        {
            "form": filterset.form,
            "item_changes": page.rows,
            "page": page,
            "field_changes": field_rows,
            "filtered": filterset.filtered,
        },
    )


@logs_access(AccessAction.CORRECTIONS_VIEW)
@login_required
@permission_required(APPROVE, raise_exception=True)
def corrections(request):
    return render(
        request,
        "administration/corrections.html",
        {
            "pending": selectors.pending_correction_list(user=request.user),
            "decided": selectors.pending_correction_list(
                user=request.user, status=PendingCorrection.Status.APPROVED
            )[:20],
            "rejected": selectors.pending_correction_list(
                user=request.user, status=PendingCorrection.Status.REJECTED
            )[:20],
            "form": DecisionForm(),
        },
    )


@access_exempt("approves or rejects (POST); the decision is logged by its service")
@login_required
@permission_required(APPROVE, raise_exception=True)
@require_POST
def correction_decide(request, pending_id, decision):
    pending = selectors.pending_correction_get(user=request.user, pending_id=pending_id)
    form = DecisionForm(request.POST)
    note = form.data.get("note", "")
    try:
        if decision == "approve":
            services.correction_approve(
                actor=request.user, pending=pending, note=note, origin=origin_of(request)
            )
            messages.success(
                request,
                _("The correction of %(number)s is applied.") % {"number": pending.item.sms_number},
            )
        elif decision == "reject":
            services.correction_reject(
                actor=request.user, pending=pending, note=note, origin=origin_of(request)
            )
            messages.success(
                request,
                _("The correction of %(number)s is rejected.")
                % {"number": pending.item.sms_number},
            )
        else:
            raise Http404
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("administration:corrections")


@access_exempt("the administration menu: links and a count")
@login_required
def home(request):
    """The administration menu: only the pages this person may open."""
    user = request.user
    if not (user.has_perm(MANAGE) or user.has_perm(VIEW_LOG) or user.has_perm(APPROVE)):
        raise Http404
    return render(
        request,
        "administration/home.html",
        {
            "pending_count": selectors.pending_correction_list(user=user).count()
            if user.has_perm(APPROVE)
            else 0
        },
    )
