"""The correction path (country schema): the one way an item's recorded values
change after registration.

Every caller goes through ``correction_submit`` and says, with ``approval``
(no default), whether the country's approval rule applies to it:

- ``Approval.COUNTRY_RULE``: someone asks for a correction under
  ``stock.correct_item`` (the web form, an edit made in ODK Collect). When the
  country wants corrections approved (``Country.corrections_need_approval``)
  and the actor may not approve them (``administration.approve_correction``),
  the correction waits as a PendingCorrection until an administrator approves
  (``correction_approve``: applied in the name of the person who asked, with
  their reason) or rejects it; otherwise it applies at once.
- ``Approval.DECIDED``: the change carries out a decision already taken by
  someone entitled to take it, under a permission the caller has checked (an
  administrator resolving a transfer discrepancy under
  ``custody.resolve_discrepancy``). It applies at once and is in the item's
  history; the caller's own ledger entry (custody's ``discrepancy_resolved``,
  which carries the old and new weight) records it in the custody ledger.

A correction that applies records one ItemChange per field that really
changed, moves the item's contribution to the totals and, for
``COUNTRY_RULE``, appends a ``correction`` entry to the custody ledger, all in
one transaction. Bad input raises ValidationError {field: [messages]} before
anything is written, whether the correction applies or waits.

The access log (audit, above stock) hears of requests and decisions through
stock.signals.
"""

import enum
from dataclasses import dataclass

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.permissions import may, require
from core.errors import raise_errors
from core.jsonable import jsonable
from core.text import text_errors
from ledger import chain as ledger
from tenants.current import current_country

from .. import marks
from ..custom_fields import validate_custom_values
from ..models import ItemChange, ItemType, MarkFlag, PendingCorrection, StockItem
from ..scope import can_see_site
from ..signals import correction_approved, correction_rejected, correction_requested
from .common import locked_item_in_scope
from .fields import (
    CORRECTABLE_EXTRA,
    ITEM_FIELDS,
    NOT_CORRECTABLE,
    check_mark,
    clean_item_fields,
    generate_mark,
    length_errors,
    longest,
    mark_parts,
)
from .totals import TotalsKey, totals_adjust

# Declared by the administration app (its approval pages); named here, not
# imported: stock sits below administration.
APPROVE_CORRECTION = "administration.approve_correction"
CORRECT_ITEM = "stock.correct_item"


class Approval(enum.Enum):
    """Whether a correction may wait for an approver. Every caller of
    correction_submit passes one, with a comment saying why."""

    # Waits when the country asks for approval and the actor may not approve.
    COUNTRY_RULE = "country_rule"
    # Applies at once: a decision already taken under the caller's permission.
    DECIDED = "decided"


# --- Checking a correction -------------------------------------------------------------


@dataclass
class Plan:
    """A checked correction of a locked item: the values it would have."""

    item: StockItem
    item_type: ItemType
    clean: dict
    custom_values: dict
    # The item's mark columns after the correction (stock.services.fields.mark_parts + flag).
    mark_columns: dict
    # The correction makes the piece markable: a mark is allocated when it applies.
    generate_mark: bool
    reason: str

    @property
    def mark(self) -> str | None:
        return self.mark_columns.get("cites_mark")

    def differences(self) -> list[tuple[str, object, object]]:
        """(field, old, new) for every value that would really change;
        custom values as ``custom_values.<key>``."""
        item = self.item
        new_values = {**self.clean, "item_type": self.item_type, "cites_mark": self.mark}
        found = [
            (name, getattr(item, name), new_values[name])
            for name in (*ITEM_FIELDS, "item_type", "cites_mark")
            if getattr(item, name) != new_values[name]
        ]
        old_custom = item.custom_values or {}
        for key in sorted(set(self.custom_values) | set(old_custom)):
            old, new = old_custom.get(key), self.custom_values.get(key)
            if old != new:
                found.append((f"custom_values.{key}", old, new))
        return found


def _request_errors(changes: dict, reason: str) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if not reason:
        errors["reason"] = [_("Give the reason for this correction.")]
    for name in changes:
        if name in NOT_CORRECTABLE:
            errors[name] = [str(NOT_CORRECTABLE[name])]
        elif name not in ITEM_FIELDS and name not in CORRECTABLE_EXTRA:
            errors[name] = [_("This field cannot be corrected.")]
    return errors


def _new_item_type(item: StockItem, changes: dict, errors: dict) -> ItemType:
    if "item_type" not in changes or "item_type" in errors:
        return item.item_type
    new_type = changes["item_type"]
    if not isinstance(new_type, ItemType):
        new_type = ItemType.objects.filter(pk=new_type).first()
    if new_type is None or not new_type.enabled:
        errors["item_type"] = [_("Choose an item type in use.")]
        return item.item_type
    return new_type


def _new_mark(item: StockItem, item_type: ItemType, changes: dict, clean: dict, errors: dict):
    """(the mark's columns after the correction, whether to allocate one).

    A required mark can't be removed; a piece the correction makes markable
    (its type or size) gets one; a weight corrected beyond the mark's rounding
    keeps the mark (it is written on the ivory) and flags it for a re-mark."""
    required = marks.mark_required(
        item_type=item_type, weight_kg=clean.get("weight_kg"), length_cm=longest(clean)
    )
    if "cites_mark" in changes:
        new_mark = changes["cites_mark"]
        if not (new_mark and str(new_mark).strip()):
            if required:
                errors.setdefault("cites_mark", []).append(
                    _("This piece must carry a CITES mark; it can't be removed.")
                )
            return mark_parts(None) | {"mark_flag": ""}, False
        if item.cites_mark and marks.normalise_mark(new_mark) == item.cites_mark:
            changes = {k: v for k, v in changes.items() if k != "cites_mark"}
        else:
            checked = check_mark(
                new_mark, item_type=item_type, weight_kg=clean.get("weight_kg"), exclude_pk=item.pk
            )
            if checked.errors:
                errors["cites_mark"] = checked.errors
                return _current_mark(item), False
            flag = MarkFlag.LEGACY_WEIGHT if checked.warnings else ""
            return mark_parts(checked.parsed) | {"mark_flag": flag}, False
    if not item.cites_mark:
        return _current_mark(item), required
    columns = _current_mark(item)
    weight = clean.get("weight_kg")
    if "weight_kg" in changes and weight is not None and weight != item.weight_kg:
        parsed = marks.parse_for_category(item.cites_mark, category=item.item_type.category)
        if parsed is not None and parsed.weight is not None:
            if parsed.weight != marks.whole_kg(weight):
                columns["mark_flag"] = MarkFlag.REMARK
            elif item.mark_flag in (MarkFlag.REMARK, MarkFlag.LEGACY_WEIGHT):
                columns["mark_flag"] = ""  # the mark's weight is right again
    return columns, False


def _current_mark(item: StockItem) -> dict:
    return {
        "cites_mark": item.cites_mark,
        "mark_series": item.mark_series,
        "mark_year": item.mark_year,
        "mark_serial": item.mark_serial,
        "mark_flag": item.mark_flag,
    }


def plan_correction(*, item: StockItem, changes: dict, reason: str) -> Plan:
    """Check ``changes`` ({field: new value}; "custom_values" takes a dict of
    the keys to change) against ``item`` (locked) by the registration's rules;
    raises ValidationError with every problem found."""
    if item.is_archived:
        raise ValidationError(
            {NON_FIELD_ERRORS: [_("This item is archived; it can no longer be corrected.")]}
        )
    reason = (reason or "").strip()
    errors = _request_errors(changes, reason)
    # Only a changed note is checked: a long one recorded before the limit stays.
    for name, messages in {
        **text_errors(ItemChange, reason=reason),
        **text_errors(StockItem, notes=changes.get("notes")),
    }.items():
        errors.setdefault(name, messages)
    item_type = _new_item_type(item, changes, errors)
    current = {name: getattr(item, name) for name in ITEM_FIELDS}
    merged = {**current, **{k: v for k, v in changes.items() if k in ITEM_FIELDS}}
    clean, field_errors = clean_item_fields(merged, item_type=item_type)
    errors.update({k: v for k, v in field_errors.items() if k not in errors})
    # Only when the correction touches what decides the mark: an older item
    # with no length stays correctable otherwise (it is in Marks to do).
    if {"item_type", "weight_kg", "length_outer_cm", "length_cm"} & set(changes):
        for name, messages in length_errors(clean, item_type=item_type).items():
            errors.setdefault(name, messages)
    values, custom_errors = validate_custom_values(
        item_type=item_type,
        values=changes.get("custom_values") or {},
        existing=item.custom_values,
    )
    errors.update(custom_errors)
    mark_columns, generate = _new_mark(item, item_type, changes, clean, errors)
    raise_errors(errors)
    return Plan(
        item=item,
        item_type=item_type,
        clean=clean,
        custom_values=values,
        mark_columns=mark_columns,
        generate_mark=generate,
        reason=reason,
    )


# --- Applying it -------------------------------------------------------------------------


def _history_value(value):
    # What the item's history shows: item types by code, Decimals and dates as text.
    return jsonable(value, model=lambda instance: instance.code)


def _apply(*, actor, plan: Plan, ledger_entry: bool) -> list[ItemChange]:
    item = plan.item
    differences = plan.differences()
    if not differences:
        return []
    before = TotalsKey.of(item)
    recorded = []
    for name, old, new in differences:
        if name.startswith("custom_values."):
            recorded.append((name, old, new))
        else:
            recorded.append((name, _history_value(old), _history_value(new)))
            setattr(item, name, new)
    item.custom_values = plan.custom_values
    columns = dict(plan.mark_columns)
    if plan.generate_mark:
        columns.update(generate_mark(item_type=plan.item_type, weight_kg=item.weight_kg))
        recorded.append(("cites_mark", None, columns["cites_mark"]))
    for name, value in columns.items():
        setattr(item, name, value)
    try:
        with transaction.atomic():
            item.save()
    except IntegrityError:
        raise ValidationError(
            {"cites_mark": [_("The mark %(mark)s is already in use.") % {"mark": plan.mark}]}
        ) from None
    totals_adjust(before=before, after=TotalsKey.of(item))
    if ledger_entry:
        ledger.append(
            event=ledger.Event.CORRECTION,
            actor=actor,
            site=item.site_id,
            item=item,
            payload={
                "changes": [{"field": f, "old": old, "new": new} for f, old, new in recorded],
                "reason": plan.reason,
            },
        )
    return ItemChange.objects.bulk_create(
        [
            ItemChange(
                item=item,
                field=field,
                old_value=old,
                new_value=new,
                reason=plan.reason,
                changed_by=actor,
            )
            for field, old, new in recorded
        ]
    )


@transaction.atomic
def item_correct(*, actor, item: StockItem, changes: dict, reason: str) -> list[ItemChange]:
    """Apply a correction now, with no approval rule: the last step of the
    correction path (correction_submit, correction_approve), and a shortcut for
    tests. Anything else calls correction_submit.

    Needs ``stock.correct_item`` (else PermissionDenied) and the item's site in
    the actor's scope (else Http404). Returns the changes recorded ([] when
    every value was already so)."""
    require(actor, CORRECT_ITEM)
    item = locked_item_in_scope(actor=actor, item=item)
    plan = plan_correction(item=item, changes=changes, reason=reason)
    return _apply(actor=actor, plan=plan, ledger_entry=True)


# --- The entry point: apply, or wait for approval ---------------------------------------------


def country_wants_approval() -> bool:
    """The current country's setting (Country.corrections_need_approval)."""
    country = current_country()
    return bool(country and country.corrections_need_approval)


def correction_needs_approval(*, actor) -> bool:
    """Whether a correction ``actor`` asks for under the country's rule waits."""
    return country_wants_approval() and not may(actor, APPROVE_CORRECTION)


def _pending_values(differences: list) -> tuple[dict, dict]:
    """({field: new}, {field: old}) as stored on a PendingCorrection (item
    types by id: applying it later cleans them as form values)."""
    asked: dict = {}
    current: dict = {}
    for name, old, new in differences:
        if name.startswith("custom_values."):
            key = name.split(".", 1)[1]
            asked.setdefault("custom_values", {})[key] = new
            current.setdefault("custom_values", {})[key] = old
        else:
            asked[name], current[name] = new, old
    return jsonable(asked), jsonable(current)


@transaction.atomic
def correction_submit(
    *, actor, item: StockItem, changes: dict, reason: str, approval: Approval, origin=None
):
    """Correct ``item``: applies now (returns the list of ItemChange, [] when
    nothing differs) or keeps the correction waiting for an approver (returns
    the PendingCorrection), as ``approval`` and the country say (see the
    module's docstring). ``origin``: passed on to the access log.

    Not durable: the ODK sync and custody call it inside their own
    transactions."""
    if not isinstance(approval, Approval):
        raise TypeError("approval must be an Approval: say whether the approval rule applies")
    if approval is Approval.DECIDED:
        # The caller checked the permission it decides under, and the scope of
        # its own object (a transfer seen from either end).
        locked = (
            StockItem.objects.select_for_update()
            .select_related("item_type__category")
            .get(pk=item.pk)
        )
        plan = plan_correction(item=locked, changes=changes, reason=reason)
        return _apply(actor=actor, plan=plan, ledger_entry=False)
    require(actor, CORRECT_ITEM)
    locked = locked_item_in_scope(actor=actor, item=item)
    plan = plan_correction(item=locked, changes=changes, reason=reason)
    if not correction_needs_approval(actor=actor):
        return _apply(actor=actor, plan=plan, ledger_entry=True)
    differences = plan.differences()
    if not differences:
        return []
    asked, current = _pending_values(differences)
    pending = PendingCorrection.objects.create(
        item=locked, changes=asked, current=current, reason=plan.reason, requested_by=actor
    )
    correction_requested.send(sender=PendingCorrection, actor=actor, pending=pending, origin=origin)
    return pending


# --- Approving or rejecting a waiting correction -----------------------------------------------


def _locked_pending(*, actor, pending: PendingCorrection) -> PendingCorrection:
    """The waiting correction, locked; 404 when its item is outside the actor's
    scope (checked first: the state of an unseen correction is not told)."""
    pending = (
        # Only the correction's row is locked; item_correct locks the item.
        PendingCorrection.objects.select_for_update(of=("self",))
        .select_related("item__site")
        .get(pk=pending.pk)
    )
    if not can_see_site(actor, pending.item.site):
        raise Http404
    if pending.status != PendingCorrection.Status.PENDING:
        raise ValidationError(_("This correction has already been decided."))
    return pending


def _decide(pending: PendingCorrection, *, actor, status: str, note: str) -> None:
    for message in text_errors(PendingCorrection, decision_note=note.strip()).get(
        "decision_note", []
    ):
        raise ValidationError({"note": [message]})
    pending.status = status
    pending.decided_by = actor
    pending.decided_at = timezone.now()
    pending.decision_note = note.strip()
    pending.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])


@transaction.atomic(durable=True)
def correction_approve(
    *, actor, pending: PendingCorrection, note: str = "", origin=None
) -> list[ItemChange]:
    """Apply a waiting correction. The changes are recorded in the item's
    history in the name of the person who asked, with their reason; the
    approval is on the PendingCorrection and in the access log."""
    require(actor, APPROVE_CORRECTION)
    pending = _locked_pending(actor=actor, pending=pending)
    requester = pending.requested_by
    if not requester.is_active:
        raise ValidationError(
            _("The person who asked for this correction is deactivated: reject it instead.")
        )
    changes = item_correct(
        actor=requester, item=pending.item, changes=pending.changes, reason=pending.reason
    )
    _decide(pending, actor=actor, status=PendingCorrection.Status.APPROVED, note=note)
    correction_approved.send(
        sender=PendingCorrection, actor=actor, pending=pending, origin=origin, changes=changes
    )
    return changes


@transaction.atomic(durable=True)
def correction_reject(*, actor, pending: PendingCorrection, note: str, origin=None) -> None:
    require(actor, APPROVE_CORRECTION)
    pending = _locked_pending(actor=actor, pending=pending)
    if not (note or "").strip():
        raise ValidationError({"note": [_("Say why, so the person can correct it.")]})
    _decide(pending, actor=actor, status=PendingCorrection.Status.REJECTED, note=note)
    correction_rejected.send(sender=PendingCorrection, actor=actor, pending=pending, origin=origin)
