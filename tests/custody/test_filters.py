"""The transfer list's filters (custody.filters): after the scope, never widening it."""

import pytest
from django.test import Client

from custody import selectors
from custody.models import Transfer
from tests.custody.conftest import draft, tusks

pytestmark = pytest.mark.django_db


def test_transfers_filter_by_status_and_never_by_a_store_out_of_scope(reg):
    transfer = draft(reg, tusks(reg, 1))
    assert list(selectors.transfer_list(user=reg.manager_x, filters={"status": "draft"})) == [
        transfer
    ]
    assert list(selectors.transfer_list(user=reg.manager_x, filters={"status": "received"})) == []
    # Manager Y sees it (destination), but can't name store X to look through it.
    assert list(selectors.transfer_list(user=reg.manager_y)) == [transfer]
    filterset = selectors.transfer_filter(user=reg.manager_y, data={"site": reg.site_x.pk})
    assert list(filterset.qs) == [] and "site" in filterset.form.errors
    assert list(selectors.transfer_list(user=reg.manager_y, filters={"site": reg.site_y.pk})) == [
        transfer
    ]


def test_the_transfer_page_keeps_its_status_filter(reg, host_a):
    draft(reg, tusks(reg, 1))
    client = Client(HTTP_HOST=host_a)
    client.force_login(reg.manager_x)
    html = client.get("/transfers/", {"status": "cancelled"}).content.decode()
    assert '<select name="status"' in html and "All statuses" in html
    assert '<option value="cancelled" selected>' in html
    assert Transfer.objects.get().reference not in html
