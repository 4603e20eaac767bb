"""The "Marks to do" page (issue 12, item 3): every item of the user's stores
that needs a mark, its length measured, or its mark checked, and why; a store
manager sees only their stores' items."""

import pytest
from django.utils import timezone

from stock import selectors
from stock.models import MarkFlag, StockItem
from tests.stock.conftest import register
from tests.stock.test_views import form_data

pytestmark = pytest.mark.django_db

YY = f"{timezone.localdate().year % 100:02d}"


@pytest.fixture
def login(client, host_a):
    def _login(user):
        client.force_login(user)
        client.defaults["HTTP_HOST"] = host_a
        return client

    return _login


@pytest.fixture
def todo(reg):
    """Older rows (before the rules) that the page must find, one per reason."""
    # A cut piece measured again at 25 cm in an older version: no mark.
    unmarked = register(reg, item_type=reg.cut_piece, weight_kg="2", length_outer_cm="15")
    StockItem.objects.filter(pk=unmarked.pk).update(length_outer_cm=25)
    # A heavy cut piece registered with no length.
    unmeasured = register(reg, item_type=reg.cut_piece, weight_kg="0.5")
    StockItem.objects.filter(pk=unmeasured.pk).update(weight_kg=3)
    # An older inventory's mark whose weight differs, at store Y.
    legacy = register(
        reg, site=reg.site_y, actor=reg.manager_y, cites_mark="XA 19/5/20", weight_kg="18"
    )
    # Fine: marked, or too small to mark.
    register(reg, weight_kg="4")
    register(reg, item_type=reg.cut_piece, weight_kg="0.4", length_outer_cm="30")
    return {"unmarked": unmarked, "unmeasured": unmeasured, "legacy": legacy}


def test_the_page_lists_each_item_to_mark_and_why(reg, todo, login):
    found = {item.pk: item.todo for item in selectors.marks_to_do(user=reg.hq)}
    assert found == {
        todo["unmarked"].pk: "needs_mark",
        todo["unmeasured"].pk: "needs_length",
        todo["legacy"].pk: MarkFlag.LEGACY_WEIGHT,
    }
    page = login(reg.hq).get("/marks-to-do/").content.decode()
    for item in todo.values():
        assert item.sms_number in page
    assert "Needs a CITES mark" in page and "measure its length" in page
    assert "Older mark: its weight differs" in page


def test_a_store_manager_sees_only_their_stores_marks_to_do(reg, todo, login):
    page = login(reg.manager_x).get("/marks-to-do/").content.decode()
    assert todo["unmarked"].sms_number in page
    assert todo["legacy"].sms_number not in page  # store Y's
    assert {i.pk for i in selectors.marks_to_do(user=reg.manager_y)} == {todo["legacy"].pk}


def test_a_weight_correction_beyond_the_rounding_shows_up_and_says_so(reg, login):
    tusk = register(reg, weight_kg="5")
    client = login(reg.manager_x)
    data = form_data(client.get(f"/items/{tusk.pk}/correct/").context["form"])
    data.update(weight_kg="7", reason="Weighed again")
    response = client.post(f"/items/{tusk.pk}/correct/", data, follow=True)
    tusk.refresh_from_db()
    assert tusk.mark_flag == MarkFlag.REMARK and tusk.cites_mark == f"XA {YY}/1/5"
    messages = [str(m) for m in response.context["messages"]]
    assert any("needs checking" in m for m in messages), messages
    assert "re-mark" in client.get("/marks-to-do/").content.decode()


def test_archived_items_are_not_to_do(reg, todo):
    from stock import services

    services.item_archive(
        actor=reg.manager_x,
        item=todo["unmarked"],
        reason="destroyed",
        archived_on=timezone.localdate(),
        authority_reference="Order 3",
        destruction_method="Burnt",
        witnesses="A, B",
    )
    assert todo["unmarked"].pk not in {i.pk for i in selectors.marks_to_do(user=reg.hq)}
