"""Archive dates agree with the custody record (issue 12, item 4): an item in
transit can't be archived, and the archive date can't precede the item's last
custody event in the ledger."""

import datetime

import pytest
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils import timezone

from ledger import chain as ledger
from stock import services
from stock.models import StockItem
from tests.stock.conftest import register

pytestmark = pytest.mark.django_db


def archive(reg, item, on):
    return services.item_archive(
        actor=reg.manager_x,
        item=item,
        reason="destroyed",
        archived_on=on,
        authority_reference="Order 12",
        destruction_method="Burnt",
        witnesses="A. Witness, B. Witness",
    )


def _received_today(reg, item):
    # What custody writes at a receipt (custody.services.common.append_received).
    ledger.append(
        event=ledger.Event.RECEIVED,
        actor=reg.manager_x,
        site=reg.site_x,
        item=item,
        payload={"transfer": "TR-1", "from": "site-y", "to": "site-x"},
    )


def test_an_archive_dated_before_the_last_custody_event_is_refused(reg):
    today = timezone.localdate()
    item = register(reg, received_on=today - datetime.timedelta(days=30))
    _received_today(reg, item)
    with pytest.raises(ValidationError) as caught:
        archive(reg, item, today - datetime.timedelta(days=3))
    [message] = caught.value.message_dict["archived_on"]
    assert f"Received from a transfer) is dated {today.isoformat()}" in message
    assert StockItem.objects.get(pk=item.pk).status == StockItem.Status.IN_STOCK
    archive(reg, item, today)  # the day of the receipt is fine
    assert StockItem.objects.get(pk=item.pk).is_archived


def test_registration_and_corrections_are_not_custody_events(reg):
    # An older inventory entered today, destroyed last year: its record's dates don't count.
    today = timezone.localdate()
    item = register(reg, received_on=today - datetime.timedelta(days=800))
    services.item_correct(actor=reg.manager_x, item=item, changes={"notes": "x"}, reason="r")
    archive(reg, item, today - datetime.timedelta(days=400))


def test_an_item_in_transit_cannot_be_archived(reg):
    item = register(reg)
    services.item_move(item=item, status=StockItem.Status.IN_TRANSIT)
    with pytest.raises(ValidationError) as caught:
        archive(reg, item, timezone.localdate())
    assert "in transit" in caught.value.message_dict[NON_FIELD_ERRORS][0]
    assert StockItem.objects.get(pk=item.pk).status == StockItem.Status.IN_TRANSIT
