"""Create forms can't be sent twice: a double click registers one item,
prepares one transfer, opens one stock-take."""

import re
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django_tenants.utils import schema_context

from accounts.models import User
from accounts.roles import STORE_MANAGER
from custody.models import StockTake, Transfer
from stock import services, submissions
from stock.models import FormSubmission, StockItem
from tests.factories import make_user
from tests.stock.conftest import register
from tests.stock.test_marks import committed_register  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(client, host_a):
    def login(user):
        client.force_login(user)
        client.defaults["HTTP_HOST"] = host_a
        return client

    return login


def token_of(page: str) -> str:
    match = re.search(r'name="submission_token" value="([0-9a-f-]{36})"', page)
    assert match, "the form carries no one-time token"
    return match.group(1)


def register_form(reg, client) -> tuple[dict, str]:
    page = client.get(
        "/items/new/", {"site": reg.site_x.pk, "item_type": reg.tusk.pk}
    ).content.decode()
    assert "data-submit-once" in page  # static/js/sms.js disables the button
    data = {
        "site": reg.site_x.pk,
        "item_type": reg.tusk.pk,
        "weight_kg": "12.500",
        "received_on": "2026-03-01",
        "source": "seizure",
        "legal_status": "government_property",
        "submission_token": token_of(page),
    }
    return data, page


def test_posting_the_same_register_form_twice_creates_one_item(reg, signed_in):
    client = signed_in(reg.manager_x)
    data, _page = register_form(reg, client)
    first = client.post("/items/new/", data)
    assert first.status_code == 302
    item = StockItem.objects.get()
    second = client.post("/items/new/", data, follow=True)
    assert StockItem.objects.count() == 1
    assert second.redirect_chain[-1][0] == f"/items/{item.pk}/"
    assert "already sent" in second.content.decode()
    # A fresh form registers the next item.
    data["submission_token"] = token_of(register_form(reg, client)[1])
    assert client.post("/items/new/", data).status_code == 302
    assert StockItem.objects.count() == 2


def test_a_refused_post_spends_nothing_and_the_corrected_form_registers(reg, signed_in):
    client = signed_in(reg.manager_x)
    data, _page = register_form(reg, client)
    refused = client.post("/items/new/", {**data, "weight_kg": "-1"})
    assert refused.status_code == 200 and not StockItem.objects.exists()
    assert not FormSubmission.objects.exists()
    # The page shown again keeps the same token; the corrected post goes through once.
    assert token_of(refused.content.decode()) == data["submission_token"]
    assert client.post("/items/new/", data).status_code == 302
    assert client.post("/items/new/", data).status_code == 302
    assert StockItem.objects.count() == 1


def test_another_persons_token_is_refused(reg, signed_in):
    client = signed_in(reg.manager_x)
    data, _page = register_form(reg, client)
    client.post("/items/new/", data)
    colleague = signed_in(make_user(role=STORE_MANAGER, sites=[reg.site_x]))
    response = colleague.post("/items/new/", data)
    assert response.status_code == 200
    assert "already used" in response.content.decode()
    assert StockItem.objects.count() == 1


def test_transfer_and_stock_take_forms_create_once(reg, signed_in):
    items = [register(reg) for _ in range(2)]
    client = signed_in(reg.manager_x)
    page = client.get("/transfers/new/", {"origin": reg.site_x.pk}).content.decode()
    data = {
        "origin": reg.site_x.pk,
        "destination": reg.site_y.pk,
        "reason": "Consolidation",
        "authority_reference": "MIN/1",
        "items": [str(items[0].pk)],
        "submission_token": token_of(page),
    }
    first = client.post("/transfers/new/", data)
    second = client.post("/transfers/new/", data)
    assert Transfer.objects.count() == 1
    assert first["Location"] == second["Location"]

    page = client.get("/stock-takes/").content.decode()
    data = {"site": reg.site_x.pk, "submission_token": token_of(page)}
    first = client.post("/stock-takes/", data)
    second = client.post("/stock-takes/", data)
    assert StockTake.objects.count() == 1
    assert first["Location"] == second["Location"]


@pytest.mark.django_db(transaction=True)
def test_two_posts_at_the_same_moment_register_one_item(country_a, committed_register):  # noqa: F811
    site, item_type, user = committed_register
    token = "6f1c1d0e-5b7a-4a53-9a55-4f9d1f0e0c01"
    barrier = threading.Barrier(2)
    results, failures = [], []

    def post():
        try:
            with schema_context(country_a.schema_name):
                actor = User.objects.get(pk=user.pk)
                barrier.wait(timeout=30)
                results.append(
                    submissions.create_once(
                        token=token,
                        user=actor,
                        purpose="stock.item_register",
                        create=lambda: services.item_register(
                            actor=actor, site=site, item_type=item_type, data={"weight_kg": "7.2"}
                        ),
                    )
                )
        except Exception as exc:  # reported below
            failures.append(exc)
        finally:
            connection.close()

    try:
        threads = [threading.Thread(target=post) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert not failures, failures
        created = [result for result, new in results if new]
        found = [result for result, new in results if not new]
        assert len(created) == 1 and found == [str(created[0].pk)]
        with schema_context(country_a.schema_name):
            assert StockItem.objects.filter(site=site).count() == 1
    finally:
        with schema_context(country_a.schema_name):
            FormSubmission.objects.filter(user_id=user.pk).delete()


def test_create_once_without_a_token_just_creates(reg):
    made = []
    for _ in range(2):
        made.append(
            submissions.create_once(
                token=None, user=reg.manager_x, purpose="x", create=lambda: register(reg)
            )
        )
    assert [new for _item, new in made] == [True, True]
    with pytest.raises(ValidationError):
        submissions.create_once(
            token="6f1c1d0e-5b7a-4a53-9a55-4f9d1f0e0c02",
            user=reg.manager_x,
            purpose="x",
            create=lambda: register(reg, weight_kg="-1"),
        )
    assert not FormSubmission.objects.exists()
