"""Corrections that wait for an administrator's approval (country setting)."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django_tenants.utils import schema_context

from accounts.roles import ROLES, STORE_MANAGER
from administration import services
from audit.models import AccessEvent
from stock import services as stock_services
from stock.models import ItemChange, PendingCorrection, StockItem
from tenants.models import Country
from tests.administration.conftest import make_item, signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def approval_on(country_a):
    Country.objects.filter(pk=country_a.pk).update(corrections_need_approval=True)
    country_a.refresh_from_db()
    return country_a


def submit(people, country, item, *, actor=None, weight="10.000"):
    """The web form's request (``country``: the one whose setting applies)."""
    with schema_context(country.schema_name):
        return stock_services.correction_submit(
            actor=actor or people.manager_x,
            item=item,
            changes={"weight_kg": Decimal(weight)},
            reason="Re-weighed",
            approval=stock_services.Approval.COUNTRY_RULE,
        )


def test_without_the_setting_corrections_apply_at_once(people, country_a):
    with schema_context("xa"):
        item = make_item(people)
    result = submit(people, country_a, item)
    assert isinstance(result, list) and len(result) == 1
    with schema_context("xa"):
        assert StockItem.objects.get(pk=item.pk).weight_kg == Decimal("10.000")


def test_a_store_managers_correction_waits_then_applies_when_approved(
    client, people, approval_on, host_a
):
    with schema_context("xa"):
        item = make_item(people)
    pending = submit(people, approval_on, item)
    assert isinstance(pending, PendingCorrection)
    with schema_context("xa"):
        assert StockItem.objects.get(pk=item.pk).weight_kg == Decimal("12.500")
        assert not ItemChange.objects.filter(item=item).exists()

    signed_in(client, people.admin, schema="xa", host=host_a)
    page = client.get("/administration/corrections/").content.decode()
    assert item.sms_number in page and "Re-weighed" in page
    client.post(f"/administration/corrections/{pending.pk}/approve/", {"note": ""})
    with schema_context("xa"):
        assert StockItem.objects.get(pk=item.pk).weight_kg == Decimal("10.000")
        change = ItemChange.objects.get(item=item)
        # The history names who asked and why; the approval is recorded too.
        assert (change.changed_by, change.reason) == (people.manager_x, "Re-weighed")
        pending.refresh_from_db()
        assert pending.status == "approved" and pending.decided_by == people.admin
        assert AccessEvent.objects.filter(action="correction_approved").count() == 1


def test_an_administrators_own_correction_does_not_wait(people, approval_on):
    with schema_context("xa"):
        item = make_item(people)
        # An administrator who may also correct items.
        people.admin.groups.add(Group.objects.get(name=ROLES[STORE_MANAGER].name))
    result = submit(people, approval_on, item, actor=people.admin)
    assert isinstance(result, list) and len(result) == 1


def test_rejection_needs_a_note_and_changes_nothing(client, people, approval_on, host_a):
    with schema_context("xa"):
        item = make_item(people)
    pending = submit(people, approval_on, item)
    signed_in(client, people.admin, schema="xa", host=host_a)
    client.post(f"/administration/corrections/{pending.pk}/reject/", {"note": ""})
    with schema_context("xa"):
        pending.refresh_from_db()
        assert pending.status == "pending"
    client.post(f"/administration/corrections/{pending.pk}/reject/", {"note": "Weigh again"})
    with schema_context("xa"):
        pending.refresh_from_db()
        assert pending.status == "rejected"
        assert StockItem.objects.get(pk=item.pk).weight_kg == Decimal("12.500")


def test_an_administrator_of_another_site_or_country_cannot_decide(
    people, approval_on, host_a, host_b
):
    with schema_context("xa"):
        item_y = make_item(people, site=people.site_y)
    pending = submit(people, approval_on, item_y, actor=people.manager_y)
    scoped = signed_in(Client(), people.admin_x, schema="xa", host=host_a)
    assert item_y.sms_number not in scoped.get("/administration/corrections/").content.decode()
    assert scoped.post(f"/administration/corrections/{pending.pk}/approve/").status_code == 404
    other = signed_in(Client(), people.admin_b, schema="xb", host=host_b)
    assert other.post(f"/administration/corrections/{pending.pk}/approve/").status_code == 404
    with schema_context("xa"):
        pending.refresh_from_db()
    assert pending.status == "pending"


def test_a_decided_correction_of_another_site_is_not_found_rather_than_described(
    people, approval_on
):
    """The service itself, not only the view, hides the state of a correction
    of an item outside the administrator's scope."""
    from django.http import Http404

    with schema_context("xa"):
        item_y = make_item(people, site=people.site_y)
    pending = submit(people, approval_on, item_y, actor=people.manager_y)
    with schema_context("xa"):
        services.correction_reject(actor=people.admin, pending=pending, note="Weigh again")
        for decide in (services.correction_approve, services.correction_reject):
            with pytest.raises(Http404):
                decide(actor=people.admin_x, pending=pending, note="x")


def test_pending_corrections_cannot_be_deleted(people, approval_on):
    from django.db import DatabaseError, transaction

    with schema_context("xa"):
        item = make_item(people)
    pending = submit(people, approval_on, item)
    with schema_context("xa"):
        with pytest.raises(DatabaseError), transaction.atomic():
            PendingCorrection.objects.filter(pk=pending.pk).delete()
