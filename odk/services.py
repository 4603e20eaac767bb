"""ODK writes (country schema): the Central connection, the project, forms,
the *items* entity list, app users, and the review queue's decisions.

Functions that call Central take a pyodk ``client`` built by
odk.central.client_for for this run (or build one) and pass ``project_id``
on every call; they raise odk.central.CENTRAL_ERRORS when Central fails,
leaving our records as they were before the failed step.

They are not one database transaction: a transaction held open across HTTP
calls would keep rows locked while Central answers, and its rollback would
forget objects Central has already made. Instead each remote object is made
first, then recorded in a short ``transaction.atomic`` block of its own, and
every run first looks in Central for what an earlier, broken-off run made but
did not record (a project or app user by name, a form by id, an entity by its
stored UUID), so running again finishes the work without duplicates.
"""

import base64
import json
import zlib
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection as db_connection
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from pyodk.errors import PyODKError

from accounts import management_scope
from accounts.models import User
from accounts.permissions import require
from accounts.roles import ROLES, STORE_MANAGER
from accounts.services import password_confirm
from core.errors import raise_errors
from core.text import text_errors
from stock.models import StockItem
from stock.scope import reach_of
from tenants.current import current_country

from . import central, crypto, xlsforms
from .models import AppUser, CentralConnection, FormVersion, ItemEntity, QrView, Submission

ENTITY_PROPERTIES = ("site", "sms_number", "mark", "item_type", "weight_kg")


def _require_admin(actor) -> None:
    require(actor, "odk.manage_odk", message=_("Only SMS administrators manage ODK."))


# --- Connection -------------------------------------------------------------------------


@transaction.atomic
def connection_save(
    *,
    actor,
    base_url: str,
    username: str,
    password: str = "",
    current_password: str = "",
    project_id: int | None = None,
    project_name: str = "",
) -> CentralConnection:
    """Create or change the country's Central connection; an empty password keeps the old one.

    A new address (the first one too) follows odk.central's address rules,
    needs the Central password typed again (the stored one never goes to
    another address) and, from a person, their own SMS password
    (``current_password``): a session left open is not enough to send SMS's
    data and Central's password elsewhere.
    """
    if actor is not None:
        _require_admin(actor)
        # The connection serves every store: Central receives the whole
        # register (the items list) and SMS takes in what Central sends. Like
        # the country's settings, only an administrator of all sites changes
        # it (scope is a ceiling, accounts.management_scope).
        if not management_scope.may_change_country(reach_of(actor)):
            raise ValidationError(
                _("Only an administrator of all sites changes the ODK Central connection.")
            )
    conn = CentralConnection.objects.select_for_update().first() or CentralConnection()
    errors = {}
    try:
        base_url = central.checked_address(base_url)
    except ValidationError as exc:
        errors["base_url"] = exc.messages
    address_changed = base_url != conn.base_url
    if not (username or "").strip():
        errors["username"] = [_("Enter the e-mail of the Central account SMS uses.")]
    if not password and not conn.password_encrypted:
        errors["password"] = [_("Enter the password of that account.")]
    elif not password and address_changed:
        errors["password"] = [
            _("The address changed: enter the password of the Central account again.")
        ]
    if (
        address_changed
        and actor is not None
        and not password_confirm(user=actor, password=current_password)
    ):
        errors["current_password"] = [
            _("Enter your own SMS password to change the address of ODK Central.")
        ]
    raise_errors(errors)
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
    # A project of that name made by an earlier run whose record was lost.
    projects = central.checked(client.get("projects")).json()
    found = [p for p in projects if p.get("name") == name and not p.get("archived")]
    if found:
        project_id = min(p["id"] for p in found)
    else:
        project_id = central.checked(client.post("projects", json={"name": name})).json()["id"]
    with transaction.atomic():
        locked = CentralConnection.objects.select_for_update().get(pk=conn.pk)
        # Another run may have recorded one meanwhile: keep the first.
        if not locked.project_id:
            locked.project_id, locked.project_name = project_id, name
            locked.save(update_fields=["project_id", "project_name", "updated_at"])
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
    with transaction.atomic():
        forms = forms_generate()
    for form in forms:
        if form.published_at:
            continue
        # What Central has decides (not our records): an earlier run may have
        # published this version and broken off before recording it.
        remote = _remote_form(client=client, project_id=conn.project_id, form=form)
        if remote is None:
            client.forms.create(
                definition=form.xform, form_id=form.xml_form_id, project_id=conn.project_id
            )
        elif not (remote.get("publishedAt") and remote.get("version") == form.version):
            client.forms.update(
                form_id=form.xml_form_id, project_id=conn.project_id, definition=form.xform
            )
        with transaction.atomic():
            FormVersion.objects.filter(pk=form.pk, published_at__isnull=True).update(
                published_at=timezone.now()
            )
        form.refresh_from_db()
        published.append(form)
    return published


def _remote_form(*, client, project_id: int, form: FormVersion) -> dict | None:
    """Central's record of the form, or None when Central does not know it."""
    response = client.get(f"projects/{project_id}/forms/{form.xml_form_id}")
    if response.status_code == 404:
        return None
    return central.checked(response).json()


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
    # The stock-take form lists entities by their label (searched, as typed)
    # and finds a scanned label by sms_number.
    return {
        "label": xlsforms.entity_label(
            sms_number=item.sms_number, mark=item.cites_mark, weight_kg=item.weight_kg
        ),
        "data": {
            "site": item.site.code,
            "sms_number": item.sms_number,
            "mark": item.cites_mark or "",
            "item_type": item.item_type.code,
            "weight_kg": str(item.weight_kg) if item.weight_kg is not None else "",
        },
    }


# Entities per bulk create: one request of ~150 KB, taken by Central in one
# transaction (all or none).
ENTITY_BATCH = 1000
# Updates and deletions in flight at once: Central has no bulk call for them.
ENTITY_WORKERS = 4


def entities_push(*, client=None, connection: CentralConnection | None = None) -> int:
    """Bring the *items* entity list in step with the register; returns the changes made.

    Items in stock (or missing) are entities; archived or moving ones are taken
    out of the list so stock-takes only offer what should be on the shelf.
    New entities go in bulk (Central's ``POST …/datasets/{name}/entities`` with
    a list, ENTITY_BATCH at a time); updates and deletions, for which Central
    has no bulk call, ENTITY_WORKERS at a time. Each entity's UUID is stored
    before Central sees it and what Central took is recorded after each batch,
    so a run that breaks off resumes where it stopped and makes nothing twice.
    """
    conn = connection or _connection()
    client = client or central.client_for(conn)
    pid = conn.project_id
    # Central refuses data naming a property the list lacks (one added since
    # the forms were last published: weight_kg): add what is missing first.
    entity_list_ensure(client=client, connection=conn)
    on_shelf = (StockItem.Status.IN_STOCK, StockItem.Status.MISSING)
    links = {link.item_id: link for link in ItemEntity.objects.all()}
    items = StockItem.objects.select_related("site", "item_type").filter(
        Q(status__in=on_shelf)
        | Q(pk__in=ItemEntity.objects.filter(in_central=True).values("item_id"))
    )
    new_links: list[ItemEntity] = []
    creates: list[tuple[ItemEntity, dict]] = []
    updates: list[tuple[ItemEntity, dict]] = []
    deletes: list[ItemEntity] = []
    for item in items.iterator(chunk_size=2000):
        link = links.get(item.pk)
        wanted = _entity_values(item) if item.status in on_shelf else None
        if link is None:
            if wanted is None:
                continue
            link = ItemEntity(item=item)
            new_links.append(link)
        if wanted is None:
            if link.in_central:
                deletes.append(link)
            continue
        if link.in_central and link.pushed == wanted:
            continue
        (updates if link.in_central else creates).append((link, wanted))
    # The UUIDs are ours before Central sees them (a retry reuses them).
    ItemEntity.objects.bulk_create(new_links, batch_size=2000)
    changes = 0
    for start in range(0, len(creates), ENTITY_BATCH):
        batch = creates[start : start + ENTITY_BATCH]
        if not _entities_create_many(client=client, project_id=pid, batch=batch):
            # Central already has some (a run broke off before recording
            # them): one by one, each create turning into an update if needed.
            _in_parallel(
                lambda pair: _entity_put(
                    client=client, link=pair[0], wanted=pair[1], project_id=pid
                ),
                batch,
            )
        _record_pushed(batch)
        changes += len(batch)
    for start in range(0, len(updates), ENTITY_BATCH):
        batch = updates[start : start + ENTITY_BATCH]
        _in_parallel(
            lambda pair: _entity_put(client=client, link=pair[0], wanted=pair[1], project_id=pid),
            batch,
        )
        _record_pushed(batch)
        changes += len(batch)
    for start in range(0, len(deletes), ENTITY_BATCH):
        batch = deletes[start : start + ENTITY_BATCH]
        _in_parallel(lambda link: _entity_delete(client=client, link=link, project_id=pid), batch)
        with transaction.atomic():
            ItemEntity.objects.filter(pk__in=[link.pk for link in batch]).update(
                in_central=False, pushed={}
            )
        changes += len(batch)
    return changes


def _entities_create_many(*, client, project_id: int, batch: list) -> bool:
    """Create a batch of entities in one request; False when Central refuses
    it because one of them exists (409: nothing of the batch was created).

    Not pyodk's ``entities.create_many``: it puts every key but the label into
    the entity's data, so it can't send the UUID SMS stores for each item."""
    response = client.post(
        f"projects/{project_id}/datasets/{client.session.urlquote(xlsforms.ENTITY_LIST)}/entities",
        json={
            "entities": [
                {"uuid": str(link.entity_uuid), "label": wanted["label"], "data": wanted["data"]}
                for link, wanted in batch
            ],
            "source": {"name": "SMS", "size": len(batch)},
        },
    )
    if response.status_code == 409:
        return False
    central.checked(response)
    return True


def _in_parallel(call, batch: list) -> None:
    """``call`` on every element, ENTITY_WORKERS at a time; the first failure
    is raised once all have ended (what succeeded is then recorded by the
    next run, which finds it in Central)."""
    with ThreadPoolExecutor(max_workers=ENTITY_WORKERS) as pool:
        for future in [pool.submit(call, element) for element in batch]:
            future.result()


def _record_pushed(batch: list[tuple[ItemEntity, dict]]) -> None:
    """What Central now holds, in one UPDATE for the batch (bulk_update's
    CASE per row costs 8 s for 1,000 rows; this costs milliseconds)."""
    for link, wanted in batch:
        link.in_central, link.pushed = True, wanted
    with transaction.atomic(), db_connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {ItemEntity._meta.db_table} AS e "  # noqa: S608 - our table's name
            "SET in_central = true, pushed = v.pushed, updated_at = now() "
            "FROM (SELECT unnest(%s::bigint[]) AS id, unnest(%s::text[])::jsonb AS pushed) AS v "
            "WHERE e.id = v.id",
            [[link.pk for link, _w in batch], [json.dumps(wanted) for _l, wanted in batch]],
        )


def _entity_delete(*, client, link: ItemEntity, project_id: int) -> None:
    try:
        client.entities.delete(
            uuid=str(link.entity_uuid), entity_list_name=xlsforms.ENTITY_LIST, project_id=project_id
        )
    except PyODKError as exc:
        # Already gone: an earlier run deleted it and broke off.
        if not _status_is(exc, 404):
            raise


def _status_is(exc: PyODKError, status: int) -> bool:
    response = exc.args[1] if len(exc.args) >= 2 else None
    return getattr(response, "status_code", None) == status


def _entity_put(*, client, link: ItemEntity, wanted: dict, project_id: int) -> None:
    """Create or update the item's entity under its stored UUID, whichever
    Central needs: a create that Central already has (409, made by a run that
    broke off before recording it) becomes an update, an update of an entity
    Central no longer has (404) a create."""
    common = {
        "label": wanted["label"],
        "data": wanted["data"],
        "entity_list_name": xlsforms.ENTITY_LIST,
        "project_id": project_id,
    }
    uuid = str(link.entity_uuid)
    try:
        if link.in_central:
            client.entities.update(uuid=uuid, force=True, **common)
        else:
            client.entities.create(uuid=uuid, **common)
    except PyODKError as exc:
        if link.in_central and _status_is(exc, 404):
            client.entities.create(uuid=uuid, **common)
        elif not link.in_central and _status_is(exc, 409):
            client.entities.update(uuid=uuid, force=True, **common)
        else:
            raise


# --- App users and the Collect QR code --------------------------------------------------------


def app_users_sync(*, actor=None, client=None) -> list[AppUser]:
    """One Central app user per active store manager, assigned to every published form."""
    if actor is not None:
        _require_admin(actor)
    conn = _connection()
    client = client or central.client_for(conn)
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
    pid = conn.project_id
    remote_users = None  # Central's app users, read once, only if one is missing here.
    assigned = {}  # form id -> app user ids Central has assigned, read when needed.
    out = []
    for user in managers:
        app_user = AppUser.objects.filter(user=user).first()
        if app_user is None:
            display = f"{user.display_name} ({user.username})"
            if remote_users is None:
                remote_users = central.checked(client.get(f"projects/{pid}/app-users")).json()
            # One an earlier run made but did not record (a revoked one has no token).
            mine = [
                a
                for a in remote_users
                if a.get("displayName") == display
                and a.get("token")
                and not AppUser.objects.filter(central_id=a["id"]).exists()
            ]
            if mine:
                data = min(mine, key=lambda a: a["id"])
            else:
                data = central.checked(
                    client.post(f"projects/{pid}/app-users", json={"displayName": display})
                ).json()
            with transaction.atomic():
                app_user, _created = AppUser.objects.get_or_create(
                    user=user,
                    defaults={
                        "central_id": data["id"],
                        "display_name": display,
                        "token_encrypted": crypto.encrypt(data["token"]),
                    },
                )
        for form_id in form_ids:
            if form_id in app_user.assigned_forms:
                continue
            if form_id not in assigned:
                assigned[form_id] = {
                    a["id"]
                    for a in central.checked(
                        client.get(f"projects/{pid}/forms/{form_id}/assignments/app-user")
                    ).json()
                }
            if app_user.central_id not in assigned[form_id]:
                central.checked(
                    client.post(
                        f"projects/{pid}/forms/{form_id}/assignments/app-user/{app_user.central_id}"
                    )
                )
                assigned[form_id].add(app_user.central_id)
            with transaction.atomic():
                locked = AppUser.objects.select_for_update().get(pk=app_user.pk)
                if form_id not in locked.assigned_forms:
                    locked.assigned_forms = [*locked.assigned_forms, form_id]
                    locked.save(update_fields=["assigned_forms"])
            app_user = locked
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
            # The forms' username: it picks the stores offered (odk.xlsforms).
            "metadata_username": app_user.user.username,
        },
        "project": {"name": conn.project_name or f"SMS {current_country().code}"},
        # The user name above is not changed on the phone.
        "admin": {"change_form_metadata": False},
    }


def collect_qr_payload(*, app_user: AppUser) -> str:
    """What Collect's QR scanner reads: the settings JSON, zlib-compressed, base64."""
    raw = json.dumps(collect_settings(app_user=app_user)).encode()
    return base64.b64encode(zlib.compress(raw)).decode()


@transaction.atomic
def qr_view_record(*, actor, app_user: AppUser, ip_address: str | None) -> QrView:
    """Keep with the app user that ``actor`` saw its QR code (it carries a
    credential); ``ip_address`` from core.origin.client_ip. The access log
    has the view too (odk.views.app_user_qr declares it)."""
    _require_admin(actor)
    return QrView.objects.create(app_user=app_user, viewed_by=actor, ip_address=ip_address)


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
    # Imported here: the sync imports this module (entities_push) at its top.
    from .sync import process

    return process(submission=locked)


@transaction.atomic
def submission_reject(*, actor, submission: Submission, reason: str) -> Submission:
    """Refuse a submission for good, with the reason (written back to Central)."""
    _require_admin(actor)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("Say why the submission is rejected.")]})
    for message in text_errors(Submission, rejection_reason=reason).get("rejection_reason", []):
        raise ValidationError({"reason": [message]})
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
    _require_admin(actor)
    # Imported here: the task imports the sync, which imports this module.
    from .tasks import odk_sync

    if settings.CELERY_TASK_ALWAYS_EAGER:
        return odk_sync.delay().get()
    transaction.on_commit(odk_sync.delay)
    return None
