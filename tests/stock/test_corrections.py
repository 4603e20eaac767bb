"""The correction path (stock.services.corrections): every caller says whether
the country's approval rule applies; a waiting correction is checked when it
is asked for, not only when it is approved; approvals are outer transactions."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404

from audit.models import AccessEvent
from stock import services
from stock.models import ItemChange, PendingCorrection, StockItem
from tenants.models import Country
from tests.stock.conftest import register

pytestmark = pytest.mark.django_db
COUNTRY_RULE = services.Approval.COUNTRY_RULE


@pytest.fixture
def approval_on(country_a):
    Country.objects.filter(pk=country_a.pk).update(corrections_need_approval=True)


def submit(reg, item, changes, *, actor=None, reason="Re-weighed"):
    return services.correction_submit(
        actor=actor or reg.manager_x,
        item=item,
        changes=changes,
        reason=reason,
        approval=COUNTRY_RULE,
    )


def test_every_caller_must_say_whether_approval_applies(reg):
    item = register(reg)
    with pytest.raises(TypeError):
        services.correction_submit(  # no approval: not a default that can be forgotten
            actor=reg.manager_x, item=item, changes={"weight_kg": "10"}, reason="x"
        )
    with pytest.raises(TypeError):
        services.correction_submit(
            actor=reg.manager_x, item=item, changes={"weight_kg": "10"}, reason="x", approval=True
        )
    assert StockItem.objects.get(pk=item.pk).weight_kg == Decimal("12.500")


def test_a_waiting_correction_keeps_only_what_changes_and_logs_the_request(reg, approval_on):
    item = register(reg, notes="as found")
    pending = submit(reg, item, {"weight_kg": "10,5", "notes": "as found", "species": ""})
    assert isinstance(pending, PendingCorrection)
    # Cleaned as the register cleans it; unchanged fields are not asked for.
    assert pending.changes == {"weight_kg": "10.500"}
    assert pending.current == {"weight_kg": "12.500"}
    assert pending.requested_by == reg.manager_x and pending.reason == "Re-weighed"
    assert StockItem.objects.get(pk=item.pk).weight_kg == Decimal("12.500")
    assert not ItemChange.objects.filter(item=item).exists()
    event = AccessEvent.objects.get(action=AccessEvent.Action.CORRECTION_REQUESTED)
    assert event.user == reg.manager_x and event.details["fields"] == ["weight_kg"]
    # Nothing to change: nothing waits.
    assert submit(reg, item, {"weight_kg": "12.5"}) == []
    assert PendingCorrection.objects.filter(item=item).count() == 1


def test_a_correction_that_would_fail_is_refused_when_asked_not_when_approved(reg, approval_on):
    item = register(reg)
    with pytest.raises(ValidationError) as exc:
        submit(reg, item, {"weight_kg": "0", "site": reg.site_y.pk}, reason=" ")
    assert set(exc.value.message_dict) == {"weight_kg", "site", "reason"}
    assert exc.value.message_dict["weight_kg"] == ["The weight must be more than 0 kg."]
    assert not PendingCorrection.objects.exists()


def test_the_wrong_side_cannot_ask_for_a_correction(reg, approval_on):
    item = register(reg)
    with pytest.raises(Http404):  # a manager of another site: not found
        submit(reg, item, {"weight_kg": "10"}, actor=reg.manager_y)
    with pytest.raises(PermissionDenied):  # a role that does not correct
        submit(reg, item, {"weight_kg": "10"}, actor=reg.hq)
    assert not PendingCorrection.objects.exists()


def test_an_approval_applies_in_the_askers_name_and_is_never_nested(reg, approval_on):
    item = register(reg)
    pending = submit(reg, item, {"weight_kg": "10.000"})
    # Approving is an outer transaction (durable): inside another one it refuses.
    with pytest.raises(RuntimeError, match="durable"), transaction.atomic():
        services.correction_approve(actor=reg.admin, pending=pending)
    changes = services.correction_approve(actor=reg.admin, pending=pending, note="ok")
    assert [(c.field, c.changed_by, c.reason) for c in changes] == [
        ("weight_kg", reg.manager_x, "Re-weighed")
    ]
    assert StockItem.objects.get(pk=item.pk).weight_kg == Decimal("10.000")
    assert AccessEvent.objects.filter(action=AccessEvent.Action.CORRECTION_APPROVED).count() == 1
    with pytest.raises(ValidationError):
        services.correction_reject(actor=reg.admin, pending=pending, note="too late")


def test_decided_changes_apply_at_once_without_a_ledger_entry_of_their_own(reg, approval_on):
    """Approval.DECIDED is for a caller that decided under its own permission
    and records the change in its own ledger entry (custody's discrepancies)."""
    from ledger.models import LedgerEntry

    item = register(reg)
    entries = LedgerEntry.objects.count()
    [change] = services.correction_submit(
        actor=reg.admin,  # no stock.correct_item: the caller checked its own permission
        item=item,
        changes={"weight_kg": "9.000"},
        reason="Weight at receipt",
        approval=services.Approval.DECIDED,
    )
    assert (change.old_value, change.new_value, change.changed_by) == ("12.500", "9.000", reg.admin)
    assert StockItem.objects.get(pk=item.pk).weight_kg == Decimal("9.000")
    assert LedgerEntry.objects.count() == entries
    assert not PendingCorrection.objects.exists()


# --- Who writes stock's rows, who goes around the path (read from the code) --------------

APPS = ("accounts", "administration", "audit", "custody", "odk", "provisioning", "reporting")


def _modules(*packages):
    import ast
    from pathlib import Path

    from django.conf import settings

    for package in packages:
        for path in sorted((Path(settings.BASE_DIR) / package).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path, ast.parse(path.read_text(), filename=str(path))


def _names(tree) -> set[str]:
    import ast

    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            found.add(node.id)
        elif isinstance(node, ast.Attribute):
            found.add(node.attr)
        elif isinstance(node, ast.alias):
            found.add(node.name.rsplit(".", 1)[-1])
    return found


def _calls(tree) -> set[str]:
    import ast

    return {
        node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
    }


def test_custody_and_odk_write_no_stock_row_and_nobody_goes_around_the_path():
    """Custody and the ODK sync change items through stock.services only
    (item_move, correction_submit): neither names the history or totals rows.
    item_correct (the path's last step, which skips the approval rule) is
    called from the path alone."""
    rows = {"ItemChange", "StockTotal", "totals_adjust", "TotalsKey"}
    assert {
        str(path): sorted(_names(tree) & rows)
        for path, tree in _modules("custody", "odk")
        if _names(tree) & rows
    } == {}
    callers = {
        str(path).rsplit("/", 2)[-2] + "/" + path.name
        for path, tree in _modules("stock", *APPS)
        if "item_correct" in _calls(tree)
    }
    assert callers == {"services/corrections.py"}


def test_stock_imports_nothing_of_custody_but_its_ledger():
    """Stock is below custody. The custody ledger is the one exception until
    it moves to its own app (issue 10: then stock imports ``ledger``). The
    item page (stock.views) still shows custody's timeline: that view, not
    stock's services, models or selectors, is left to the views' owners."""
    import ast

    imported = set()
    for path, tree in _modules("stock"):
        if path.name == "views.py":
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [f"{node.module}.{a.name}" for a in node.names]
                imported |= {n for n in names if n.startswith("custody")}
            elif isinstance(node, ast.Import):
                imported |= {a.name for a in node.names if a.name.startswith("custody")}
    assert imported <= {"custody.ledger"}
