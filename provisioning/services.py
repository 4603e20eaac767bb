"""Provisioning a country from a validated protocol (public side; enters the
country schema explicitly).

One walk over "what the file says" against "what the database holds" both
plans and applies, so the plan printed by ``--dry-run`` is exactly what a real
run does. Re-running is safe: values are updated in place, new things are
added, things missing from the file are deactivated (never deleted), and
existing users are never touched.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth.models import Group
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils.translation import gettext as _
from django_tenants.utils import get_public_schema_name, schema_context

from accounts.invitations import invitation_link, invitation_send
from accounts.management_scope import SYSTEM_ACCOUNT_PREFIX
from accounts.models import User
from accounts.roles import ROLES, SMS_ADMINISTRATOR
from accounts.services import roles_sync
from odk import crypto
from odk.models import CentralConnection
from odk.services import connection_save
from stock import services as stock_services
from stock.models import (
    WHOLE_CITES_CLASSES,
    CustomFieldDefinition,
    FieldDefinitionChange,
    ItemCategory,
    ItemType,
    Site,
)
from tenants.models import Country, country_host, host_url
from tenants.services import country_create, country_update

from .protocol import Protocol, ProtocolInvalid, ProtocolIssue

CREATE, UPDATE, DEACTIVATE = "create", "update", "deactivate"
SIGNS = {CREATE: "+", UPDATE: "~", DEACTIVATE: "-"}


class ProvisioningFailed(RuntimeError):
    """The database refused something after validation; everything was rolled back."""


@dataclass
class Change:
    action: str
    kind: str
    key: str
    label: str = ""
    # For updates: field -> (old, new).
    fields: dict = field(default_factory=dict)

    def __str__(self):
        text = f"{SIGNS[self.action]} {self.kind} {self.key}"
        if self.label:
            text += f' "{self.label}"'
        if self.action == UPDATE:
            text += ": " + "; ".join(
                f"{name} {_show(old)} → {_show(new)}" for name, (old, new) in self.fields.items()
            )
        elif self.action == DEACTIVATE:
            text += ": " + _("deactivated (kept, not deleted)")
        return text


def _show(value) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, (list, set, tuple)):
        return "[" + ", ".join(str(v) for v in sorted(value, key=str)) + "]"
    return str(value)


@dataclass
class Invitation:
    full_name: str
    email: str
    username: str
    link: str


@dataclass
class ProvisioningResult:
    code: str
    name: str
    new_country: bool
    changes: list[Change]
    applied: bool
    invitations: list[Invitation] = field(default_factory=list)
    base_url: str = ""

    def count(self, action: str) -> int:
        return sum(1 for change in self.changes if change.action == action)


def country_provision(
    *, protocol: Protocol, dry_run: bool = False, send_invitations: bool = True
) -> ProvisioningResult:
    """Make the country match ``protocol``; with ``dry_run``, only say what
    that would change. Either everything is applied or nothing is: a new
    schema is rolled back with the rest. New administrators get their
    one-time link by e-mail unless ``send_invitations`` is false (the demo,
    which sets their password itself)."""
    if connection.schema_name != get_public_schema_name():
        raise RuntimeError("Provisioning runs from the public schema.")
    try:
        with transaction.atomic():
            sync = _Sync(protocol=protocol, apply=not dry_run, send_invitations=send_invitations)
            sync.run()
            if dry_run:
                # Reads only, but roll back anyway so a dry run can never leave a trace.
                transaction.set_rollback(True)
    except (ProtocolInvalid, ProvisioningFailed):
        raise
    except IntegrityError as exc:
        raise ProvisioningFailed(
            _("the database refused a change, nothing was saved: %(error)s") % {"error": exc}
        ) from exc
    except DatabaseError as exc:
        raise ProvisioningFailed(
            _("database error, nothing was saved: %(error)s") % {"error": exc}
        ) from exc
    finally:
        connection.set_schema_to_public()
    return ProvisioningResult(
        code=protocol.country.code,
        name=protocol.country.name,
        new_country=sync.new_country,
        changes=sync.changes,
        applied=not dry_run,
        invitations=sync.invitations,
        base_url=host_url(country_host(protocol.country.code)),
    )


class _Sync:
    def __init__(self, *, protocol: Protocol, apply: bool, send_invitations: bool):
        self.protocol = protocol
        self.apply = apply
        self.send_invitations = send_invitations
        self.changes: list[Change] = []
        self.invitations: list[Invitation] = []
        self.new_country = False

    # -- helpers ------------------------------------------------------------

    def record(self, action, kind, key, label="", fields=None):
        self.changes.append(Change(action, kind, key, label, fields or {}))

    @staticmethod
    def diff(obj, values: dict) -> dict:
        return {
            name: (getattr(obj, name), value)
            for name, value in values.items()
            if getattr(obj, name) != value
        }

    def upsert(self, model, kind: str, lookup: dict, values: dict, label: str, existing):
        """Create or update one row; returns it (unsaved stand-in on a dry run)."""
        key = next(iter(lookup.values()))
        if existing is None:
            self.record(CREATE, kind, key, label)
            obj = model(**lookup, **values)
            if self.apply:
                obj.save()
            return obj
        changed = self.diff(existing, values)
        if changed:
            self.record(UPDATE, kind, key, fields=changed)
            if self.apply:
                for name, (_old, new) in changed.items():
                    setattr(existing, name, new)
                existing.save(update_fields=list(changed))
        return existing

    # -- the walk -----------------------------------------------------------

    def run(self):
        spec = self.protocol.country
        country = Country.objects.select_for_update().filter(code=spec.code).first()
        values = {
            "name": spec.name,
            "languages": list(spec.languages),
            "default_language": spec.default_language,
            "time_zone": spec.time_zone,
            "two_factor_policy": spec.two_factor_policy,
        }
        if country is None:
            self.new_country = True
            self.record(CREATE, _("country"), spec.code, spec.name)
            self.record(CREATE, _("host"), country_host(spec.code))
            if self.apply:
                country = country_create(code=spec.code, **values)
        else:
            changed = self.diff(country, values)
            if changed:
                self.record(UPDATE, _("country"), spec.code, fields=changed)
                if self.apply:
                    country_update(country=country, **values)

        if country is None:
            # Dry run of a new country: there is no schema to compare with.
            self.walk_country(country=None)
            return
        with schema_context(country.schema_name):
            self.walk_country(country=country)

    def walk_country(self, *, country):
        exists = country is not None
        self.roles(exists)
        self.sites(exists)
        types = self.categories_and_types(exists)
        self.custom_fields(exists, types)
        self.administrators(exists, country)
        self.odk(exists)

    def roles(self, exists: bool):
        current = {}
        if exists:
            for group in Group.objects.prefetch_related("permissions__content_type"):
                current[group.name] = {
                    f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()
                }
        for role in ROLES.values():
            if role.name not in current:
                self.record(CREATE, _("role"), role.name)
            elif current[role.name] != set(role.permissions):
                self.record(
                    UPDATE,
                    _("role"),
                    role.name,
                    fields={_("permissions"): (current[role.name], set(role.permissions))},
                )
        if self.apply:
            roles_sync()

    def sites(self, exists: bool):
        existing = {site.code: site for site in Site.objects.all()} if exists else {}
        for spec in self.protocol.sites:
            values = {
                "name": spec.name,
                "region": spec.region,
                "latitude": _coordinate(spec.gps.lat) if spec.gps else None,
                "longitude": _coordinate(spec.gps.lon) if spec.gps else None,
                "custodian": spec.custodian,
                "active": spec.active,
            }
            self.upsert(
                Site, _("site"), {"code": spec.code}, values, spec.name, existing.get(spec.code)
            )
        listed = {spec.code for spec in self.protocol.sites}
        for code, site in existing.items():
            if code not in listed and site.active:
                self.record(DEACTIVATE, _("site"), code)
                if self.apply:
                    site.active = False
                    site.save(update_fields=["active"])

    def categories_and_types(self, exists: bool) -> dict:
        categories = {c.code: c for c in ItemCategory.objects.all()} if exists else {}
        types = {t.code: t for t in ItemType.objects.select_related("category")} if exists else {}
        result = {}
        for c_order, c_spec in enumerate(self.protocol.categories):
            category = self.upsert(
                ItemCategory,
                _("category"),
                {"code": c_spec.code},
                {
                    "kind": c_spec.kind,
                    "labels": dict(c_spec.labels),
                    "mark_pattern": c_spec.mark_pattern,
                    "enabled": c_spec.active,
                    "order": c_order,
                },
                _label(c_spec.labels, self.protocol),
                categories.get(c_spec.code),
            )
            for t_order, t_spec in enumerate(c_spec.types):
                existing = types.get(t_spec.code)
                values = {
                    "labels": dict(t_spec.labels),
                    "counting": t_spec.counting,
                    "marking": t_spec.marking,
                    # The class decides for CITES categories (a whole tusk
                    # or horn is whole); the flag for the others.
                    "whole": t_spec.whole or t_spec.cites_class in WHOLE_CITES_CLASSES,
                    "cites_class": t_spec.cites_class or "",
                    "enabled": t_spec.active,
                    "order": t_order,
                }
                if existing is not None and existing.category.code != c_spec.code:
                    self.record(
                        UPDATE,
                        _("item type"),
                        t_spec.code,
                        fields={_("category"): (existing.category.code, c_spec.code)},
                    )
                    if self.apply:
                        existing.category = category
                        existing.save(update_fields=["category"])
                values_obj = self.upsert(
                    ItemType,
                    _("item type"),
                    {"code": t_spec.code},
                    {**values, **({} if existing is not None else {"category": category})},
                    _label(t_spec.labels, self.protocol),
                    existing,
                )
                result[t_spec.code] = values_obj
        listed_categories = {spec.code for spec in self.protocol.categories}
        for code, category in categories.items():
            if code not in listed_categories and category.enabled:
                self.record(DEACTIVATE, _("category"), code)
                if self.apply:
                    category.enabled = False
                    category.save(update_fields=["enabled"])
        listed_types = {t.code for _c, t in self.protocol.item_types()}
        for code, item_type in types.items():
            if code not in listed_types and item_type.enabled:
                self.record(DEACTIVATE, _("item type"), code)
                if self.apply:
                    item_type.enabled = False
                    item_type.save(update_fields=["enabled"])
        return result

    def custom_fields(self, exists: bool, types: dict):
        existing = (
            {f.key: f for f in CustomFieldDefinition.objects.prefetch_related("applies_to")}
            if exists
            else {}
        )
        all_types = [t.code for _c, t in self.protocol.item_types()]
        issues = []
        for index, spec in enumerate(self.protocol.custom_fields):
            current = existing.get(spec.key)
            if current is not None and current.field_type != spec.type:
                # Stored values were validated against the old type; changing it
                # would make them unreadable.
                issues.append(
                    ProtocolIssue(
                        f"custom_fields[{index}].type",
                        _(
                            'the field already exists as "%(old)s" and its type cannot change; '
                            "add a field with a new key and remove this one"
                        )
                        % {"old": current.field_type},
                    )
                )
        if issues:
            raise ProtocolInvalid(issues)

        for index, spec in enumerate(self.protocol.custom_fields):
            current = existing.get(spec.key)
            before = _definition_snapshot(current) if current is not None and self.apply else None
            values = {
                "labels": dict(spec.labels),
                "field_type": spec.type,
                "unit": spec.unit,
                "required": spec.required,
                "choices": [
                    {"value": choice.value, "labels": dict(choice.labels)}
                    for choice in spec.choices
                ],
                "order": spec.order if spec.order is not None else index,
                "active": spec.active,
            }
            definition = self.upsert(
                CustomFieldDefinition,
                _("custom field"),
                {"key": spec.key},
                values,
                _label(spec.labels, self.protocol),
                current,
            )
            wanted = set(spec.applies_to if spec.applies_to is not None else all_types)
            have = {t.code for t in current.applies_to.all()} if current is not None else set()
            if current is not None and wanted != have:
                self.record(
                    UPDATE, _("custom field"), spec.key, fields={_("applies_to"): (have, wanted)}
                )
            if self.apply and wanted != have:
                definition.applies_to.set([types[code] for code in wanted])
            if self.apply:
                self.log_definition(definition, before)
        listed = {spec.key for spec in self.protocol.custom_fields}
        for key, definition in existing.items():
            if key not in listed and definition.active:
                self.record(DEACTIVATE, _("custom field"), key)
                if self.apply:
                    before = _definition_snapshot(definition)
                    definition.active = False
                    definition.save(update_fields=["active"])
                    self.log_definition(definition, before)

    def log_definition(self, definition, before: dict | None):
        """Record a definition change like an administrator's edit would be
        (stock.FieldDefinitionChange), attributed to the provisioning account."""

        after = _definition_snapshot(definition)
        if after == before:
            return
        Action = FieldDefinitionChange.Action
        if before is None:
            action = Action.CREATED
        elif before["active"] != after["active"]:
            action = Action.REACTIVATED if after["active"] else Action.DEACTIVATED
        else:
            action = Action.UPDATED
        FieldDefinitionChange.objects.create(
            definition=definition,
            action=action,
            before=before,
            after=after,
            changed_by=_provisioning_account(),
        )

    def administrators(self, exists: bool, country):
        issues = []
        to_create = []
        for index, spec in enumerate(self.protocol.administrators):
            if exists and User.objects.filter(email__iexact=spec.email).exists():
                # Existing users are the country's business: never touched here.
                continue
            if exists and User.objects.filter(username__iexact=spec.login).exists():
                issues.append(
                    ProtocolIssue(
                        f"administrators[{index}].username",
                        _('"%(value)s" is already taken in this country by another user')
                        % {"value": spec.login},
                    )
                )
                continue
            to_create.append(spec)
        if issues:
            raise ProtocolInvalid(issues)
        if not to_create:
            return
        group = Group.objects.get(name=ROLES[SMS_ADMINISTRATOR].name) if self.apply else None
        for spec in to_create:
            self.record(CREATE, _("administrator"), spec.login, spec.full_name)
            if not self.apply:
                continue
            user = User(
                username=spec.login,
                email=spec.email,
                full_name=spec.full_name,
                all_sites=True,
            )
            # They choose their own password through the one-time link.
            user.set_unusable_password()
            user.save()
            user.groups.add(group)
            if self.send_invitations:
                link = invitation_send(user=user, country=country)
            else:
                link = invitation_link(user=user, country=country)
            self.invitations.append(Invitation(spec.full_name, spec.email, spec.login, link))

    def odk(self, exists: bool):
        """The ODK Central connection, when the file has an ``odk`` section
        (the password comes from the environment variable it names)."""
        import os

        spec = self.protocol.odk
        if spec is None:
            return
        from django.core.exceptions import ImproperlyConfigured

        password = os.environ.get(spec.password_env, "")
        conn = CentralConnection.objects.first() if exists else None
        values = {"base_url": spec.url, "username": spec.username}
        if spec.project_name:
            values["project_name"] = spec.project_name
        if spec.project_id:
            values["project_id"] = spec.project_id
        if conn is None:
            self.record(CREATE, _("ODK Central connection"), spec.url)
        else:
            changed = self.diff(conn, values)
            try:
                same_password = crypto.decrypt(conn.password_encrypted) == password
            except ImproperlyConfigured:  # key changed: the file's password replaces it
                same_password = False
            if not same_password:
                # Never printed: only that it changes.
                changed[_("password")] = ("…", _("from %(name)s") % {"name": spec.password_env})
            if not changed:
                return
            self.record(UPDATE, _("ODK Central connection"), spec.url, fields=changed)
        if self.apply:
            connection_save(
                actor=None,
                base_url=spec.url,
                username=spec.username,
                password=password,
                project_id=spec.project_id,
                project_name=spec.project_name,
            )


# A system account (accounts.management_scope): no administrator may manage it.
PROVISIONING_USERNAME = f"{SYSTEM_ACCOUNT_PREFIX}provisioning"


def _provisioning_account():
    """The author of changes made from the protocol file, in the current
    country: an account that can't log in (inactive, no password, no role),
    so the history never pins them on a person."""

    user = User.objects.filter(username=PROVISIONING_USERNAME).first()
    if user is None:
        user = User(
            username=PROVISIONING_USERNAME,
            full_name=_("Provisioning (inventory protocol file)"),
            is_active=False,
        )
        user.set_unusable_password()
        user.save()
    return user


def _definition_snapshot(definition) -> dict:
    # The same shape stock.services records for an administrator's edit, so
    # the field history reads the same whoever made the change.
    return stock_services.definition_snapshot(definition)


def _coordinate(value: Decimal) -> Decimal:
    return Decimal(value).quantize(Decimal("0.000001"))


def _label(labels: dict, protocol: Protocol) -> str:
    return labels.get(protocol.country.default_language) or next(iter(labels.values()), "")
