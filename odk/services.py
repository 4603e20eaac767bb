"""ODK writes (country schema): the Central connection, the project, forms,
the *items* entity list, app users, and the review queue's decisions.

Functions that call Central take a pyodk ``client`` built by
odk.central.client_for for this run (or build one) and pass ``project_id``
on every call; they raise odk.central.CENTRAL_ERRORS when Central fails,
leaving our records as they were before the failed step.
"""

import base64
import json
import zlib

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.roles import ROLES, STORE_MANAGER
from stock.models import StockItem

from . import central, crypto, xlsforms
from .models import AppUser, CentralConnection, FormVersion, ItemEntity, QrView, Submission

ENTITY_PROPERTIES = ("site", "sms_number", "mark", "item_type")


def _require_admin(actor) -> None:
    if not actor.has_perm("odk.manage_odk"):
        raise PermissionDenied(_("Only SMS administrators manage ODK."))


def current_country():
    from django.db import connection

    from tenants.models import Country

    return Country.objects.get(schema_name=connection.schema_name)


# --- Connection -------------------------------------------------------------------------


@transaction.atomic
def connection_save(
    *,
    actor,
    base_url: str,
    username: str,
    password: str = "",
    project_id: int | None = None,
    project_name: str = "",
) -> CentralConnection:
    """Create or change the country's Central connection; an empty password keeps the old one."""
    if actor is not None:
        _require_admin(actor)
    conn = CentralConnection.objects.select_for_update().first() or CentralConnection()
    errors = {}
    base_url = (base_url or "").strip().rstrip("/")
    if base_url.endswith("/v1"):
        base_url = base_url[: -len("/v1")]
    if not base_url.startswith(("https://", "http://")):
        errors["base_url"] = [_("Enter the address of ODK Central, starting with https://.")]
    if not (username or "").strip():
        errors["username"] = [_("Enter the e-mail of the Central account SMS uses.")]
    if not password and not conn.password_encrypted:
        errors["password"] = [_("Enter the password of that account.")]
    if errors:
        raise ValidationError(errors)
    conn.base_url = base_url
    conn.username = username.strip()
    if password:
        conn.password_encrypted = crypto.encrypt(password)
    if project_id is not None:
        conn.project_id = project_id
    if project_name:
        conn.project_name = project_name.strip()
    conn.updated_by = actor
    conn.save()
    return conn


def _connection() -> CentralConnection:
    conn = CentralConnection.objects.first()
    if conn is None:
        raise ValidationError(_("Set up the ODK Central connection first."))
    return conn


def project_create(*, actor=None, client=None, name: str | None = None) -> CentralConnection:
    """Create the country's Central project (once; later calls change nothing)."""
    if actor is not None:
        _require_admin(actor)
    conn = _connection()
    if conn.project_id:
        return conn
    country = current_country()
    name = name or conn.project_name or f"SMS {country.code} — {country.name}"
    client = client or central.client_for(conn)
    data = central.checked(client.post("projects", json={"name": name})).json()
    CentralConnection.objects.filter(pk=conn.pk).update(project_id=data["id"], project_name=name)
    conn.refresh_from_db()
    return conn


# --- Forms -----------------------------------------------------------------------------------


def forms_generate() -> list[FormVersion]:
    """The current version of each form, stored; a new row only when definitions changed."""
    country = current_country()
    languages = list(country.languages or []) or [country.default_language]
    out = []
    for kind in (FormVersion.Kind.REGISTER, FormVersion.Kind.STOCKTAKE):
        built = xlsforms.build(
            kind=kind, languages=languages, default_language=country.default_language
        )
        latest = FormVersion.objects.filter(kind=kind).order_by("-created_at").first()
        if latest and latest.version.split("-")[0] == built.version:
            out.append(latest)
            continue
        seen = FormVersion.objects.filter(kind=kind, version__startswith=built.version).count()
        if seen:
            # Back to an older set of definitions: still a new version string,
            # since Central refuses to publish one it has seen.
            built = xlsforms.build(
                kind=kind,
                languages=languages,
                default_language=country.default_language,
                version=f"{built.version}-{seen + 1}",
            )
        out.append(
            FormVersion.objects.create(
                kind=kind, xml_form_id=built.xml_form_id, version=built.version, xform=built.xform
            )
        )
    return out


def forms_publish(*, actor=None, client=None) -> list[FormVersion]:
    """Publish every form whose latest version Central does not have yet."""
    if actor is not None:
        _require_admin(actor)
    conn = _connection()
    if not conn.project_id:
        raise ValidationError(_("Create the Central project first."))
    client = client or central.client_for(conn)
    entity_list_ensure(client=client, connection=conn)
    published = []
    for form in forms_generate():
        if form.published_at:
            continue
        known = FormVersion.objects.filter(kind=form.kind, published_at__isnull=False).exists()
        if known:
            client.forms.update(
                form_id=form.xml_form_id, project_id=conn.project_id, definition=form.xform
            )
        else:
            client.forms.create(
                definition=form.xform, form_id=form.xml_form_id, project_id=conn.project_id
            )
        FormVersion.objects.filter(pk=form.pk).update(published_at=timezone.now())
        form.refresh_from_db()
        published.append(form)
    return published


# --- The items entity list ----------------------------------------------------------------


def entity_list_ensure(*, client, connection: CentralConnection) -> None:
    """The *items* entity list with its properties (linked to items.csv by its name)."""
    pid = connection.project_id
    names = {e["name"] for e in central.checked(client.get(f"projects/{pid}/datasets")).json()}
    if xlsforms.ENTITY_LIST not in names:
        client.entity_lists.create(entity_list_name=xlsforms.ENTITY_LIST, project_id=pid)
        existing = set()
    else:
        detail = central.checked(
            client.get(f"projects/{pid}/datasets/{xlsforms.ENTITY_LIST}")
        ).json()
        existing = {p["name"] for p in detail.get("properties") or []}
    for prop in ENTITY_PROPERTIES:
        if prop not in existing:
            client.entity_lists.add_property(
                name=prop, entity_list_name=xlsforms.ENTITY_LIST, project_id=pid
            )


def _entity_values(item: StockItem) -> dict:
    label = " — ".join(
        part for part in (item.sms_number, item.item_type.label(), item.cites_mark or "") if part
    )
    return {
        "label": label,
        "data": {
            "site": item.site.code,
            "sms_number": item.sms_number,
            "mark": item.cites_mark or "",
            "item_type": item.item_type.code,
        },
    }


def entities_push(*, client=None, connection: CentralConnection | None = None) -> int:
    """Bring the *items* entity list in step with the register; returns the changes made.

    Items in stock (or missing) are entities; archived or moving ones are taken
    out of the list so stock-takes only offer what should be on the shelf.
    """
    conn = connection or _connection()
    client = client or central.client_for(conn)
    pid, name = conn.project_id, xlsforms.ENTITY_LIST
    on_shelf = (StockItem.Status.IN_STOCK, StockItem.Status.MISSING)
    links = {link.item_id: link for link in ItemEntity.objects.all()}
    changes = 0
    items = StockItem.objects.select_related("site", "item_type").filter(
        status__in=on_shelf
    ) | StockItem.objects.select_related("site", "item_type").filter(
        pk__in=[k for k, v in links.items() if v.in_central]
    )
    for item in items.distinct():
        link = links.get(item.pk)
        wanted = _entity_values(item) if item.status in on_shelf else None
        if link is None:
            link = ItemEntity.objects.create(item=item)
        if wanted is None:
            if link.in_central:
                client.entities.delete(
                    uuid=str(link.entity_uuid), entity_list_name=name, project_id=pid
                )
                ItemEntity.objects.filter(pk=link.pk).update(in_central=False, pushed={})
                changes += 1
            continue
        if link.in_central and link.pushed == wanted:
            continue
        if link.in_central:
            client.entities.update(
                uuid=str(link.entity_uuid),
                label=wanted["label"],
                data=wanted["data"],
                entity_list_name=name,
                project_id=pid,
                force=True,
            )
        else:
            client.entities.create(
                label=wanted["label"],
                data=wanted["data"],
                uuid=str(link.entity_uuid),
                entity_list_name=name,
                project_id=pid,
            )
        # Saved after each call: a run that breaks off resumes where it stopped.
        ItemEntity.objects.filter(pk=link.pk).update(in_central=True, pushed=wanted)
        changes += 1
    return changes


# --- App users and the Collect QR code --------------------------------------------------------


def app_users_sync(*, actor=None, client=None) -> list[AppUser]:
    """One Central app user per active store manager, assigned to every published form."""
    if actor is not None:
        _require_admin(actor)
    conn = _connection()
    client = client or central.client_for(conn)
    from accounts.models import User

    managers = User.objects.filter(
        is_active=True, groups__name=ROLES[STORE_MANAGER].name
    ).distinct()
    form_ids = sorted(
        set(
            FormVersion.objects.filter(published_at__isnull=False).values_list(
                "xml_form_id", flat=True
            )
        )
    )
    out = []
    for user in managers:
        app_user = AppUser.objects.filter(user=user).first()
        if app_user is None:
            display = f"{user.display_name} ({user.username})"
            data = central.checked(
                client.post(f"projects/{conn.project_id}/app-users", json={"displayName": display})
            ).json()
            app_user = AppUser.objects.create(
                user=user,
                central_id=data["id"],
                display_name=display,
                token_encrypted=crypto.encrypt(data["token"]),
            )
        for form_id in form_ids:
            if form_id in app_user.assigned_forms:
                continue
            central.checked(
                client.post(
                    f"projects/{conn.project_id}/forms/{form_id}/assignments/app-user/"
                    f"{app_user.central_id}"
                )
            )
            app_user.assigned_forms = [*app_user.assigned_forms, form_id]
            AppUser.objects.filter(pk=app_user.pk).update(assigned_forms=app_user.assigned_forms)
        out.append(app_user)
    return out


def collect_settings(*, app_user: AppUser) -> dict:
    conn = _connection()
    token = crypto.decrypt(app_user.token_encrypted)
    return {
        "general": {
            "server_url": f"{conn.base_url}/v1/key/{token}/projects/{conn.project_id}",
            "form_update_mode": "match_exactly",
            "autosend": "wifi_and_cellular",
        },
        "project": {"name": conn.project_name or f"SMS {current_country().code}"},
        "admin": {},
    }


def collect_qr_payload(*, app_user: AppUser) -> str:
    """What Collect's QR scanner reads: the settings JSON, zlib-compressed, base64."""
    raw = json.dumps(collect_settings(app_user=app_user)).encode()
    return base64.b64encode(zlib.compress(raw)).decode()


@transaction.atomic
def qr_view_record(*, request, app_user: AppUser) -> QrView:
    """Log that ``request.user`` saw ``app_user``'s QR code (it carries a credential)."""
    _require_admin(request.user)
    view = QrView.objects.create(
        app_user=app_user, viewed_by=request.user, ip_address=request.META.get("REMOTE_ADDR")
    )
    try:
        from audit.services import access_record
    except ImportError:
        return view
    access_record(
        request=request, action="odk.qr_view", obj=app_user, details={"app_user": app_user.pk}
    )
    return view


# --- The review queue ----------------------------------------------------------------------------


@transaction.atomic
def submission_correct(*, actor, submission: Submission, values: dict) -> Submission:
    """Keep an administrator's corrected values and process the submission again."""
    _require_admin(actor)
    locked = Submission.objects.select_for_update().get(pk=submission.pk)
    if locked.status not in (Submission.Status.NEEDS_REVIEW, Submission.Status.PENDING):
        raise ValidationError(_("Only submissions waiting for review can be corrected."))
    clean = {str(k): v for k, v in values.items() if not str(k).startswith("__")}
    locked.corrections = {**(locked.corrections or {}), **clean}
    locked.save(update_fields=["corrections", "updated_at"])
    from .sync import process

    return process(submission=locked)


@transaction.atomic
def submission_reject(*, actor, submission: Submission, reason: str) -> Submission:
    """Refuse a submission for good, with the reason (written back to Central)."""
    _require_admin(actor)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("Say why the submission is rejected.")]})
    locked = Submission.objects.select_for_update().get(pk=submission.pk)
    if locked.status != Submission.Status.NEEDS_REVIEW:
        raise ValidationError(_("Only submissions waiting for review can be rejected."))
    locked.status = Submission.Status.REJECTED
    locked.rejection_reason = reason
    locked.review_wanted = "rejected"
    locked.save()
    return locked


def sync_request(*, actor) -> dict | None:
    """An administrator's "Sync now" of the current country, through the same
    Celery task as the schedule.

    With a broker the task is queued once the transaction commits (returns
    None). Without one (``CELERY_TASK_ALWAYS_EAGER``, the demo) it runs here,
    now, and its report comes back as a dict so the page can say what it did.
    """
    from django.conf import settings

    _require_admin(actor)
    from .tasks import odk_sync

    if settings.CELERY_TASK_ALWAYS_EAGER:
        return odk_sync.delay().get()
    transaction.on_commit(odk_sync.delay)
    return None
