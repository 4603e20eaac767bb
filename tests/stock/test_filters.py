"""The item list's and the archive's filters (stock.filters): applied after
the site scope, they can only narrow it; a value the form refuses (another
store, a date that is not one) shows nothing and says why."""

import datetime

import pytest
from django.test import Client

from stock import selectors, services
from stock.models import ItemCategory
from tests.stock.conftest import register

pytestmark = pytest.mark.django_db


@pytest.fixture
def items(reg):
    x_tusk = register(reg, received_on="2024-05-02")
    x_scales = register(reg, item_type=reg.scales)
    y_tusk = register(reg, site=reg.site_y, actor=reg.manager_y)
    y_old = register(reg, site=reg.site_y, actor=reg.manager_y)
    services.item_archive(
        actor=reg.manager_y,
        item=y_old,
        reason="destroyed",
        archived_on=datetime.date.today(),
        authority_reference="Order 3",
        destruction_method="Burnt",
        witnesses="Two officers",
    )
    return {"x_tusk": x_tusk, "x_scales": x_scales, "y_tusk": y_tusk, "y_old": y_old}


def pks(queryset):
    return {row.pk for row in queryset}


def test_another_stores_id_finds_nothing_and_the_form_refuses_it(reg, items):
    for data in (
        {"site": reg.site_y.pk},
        {"site": reg.site_y.pk, "q": items["y_tusk"].sms_number},
        {"site": str(reg.site_y.pk), "status": "in_stock", "category": reg.ivory.pk},
    ):
        filterset = selectors.item_filter(user=reg.manager_x, data=data)
        assert pks(filterset.qs) == set(), data
        assert "site" in filterset.form.errors
        assert filterset.filtered
    assert reg.site_y not in filterset.form.fields["site"].queryset
    # The same store's filter, and the other manager's own, still work.
    assert pks(selectors.item_list(user=reg.manager_x, filters={"site": reg.site_x.pk})) == {
        items["x_tusk"].pk,
        items["x_scales"].pk,
    }
    assert pks(selectors.item_list(user=reg.manager_y, filters={"site": reg.site_y.pk})) == {
        items["y_tusk"].pk
    }


def test_the_archive_refuses_another_stores_id_too(reg, items):
    assert [r.item_id for r in selectors.archive_list(user=reg.manager_y)] == [items["y_old"].pk]
    filterset = selectors.archive_filter(user=reg.manager_x, data={"site": reg.site_y.pk})
    assert list(filterset.qs) == [] and "site" in filterset.form.errors
    found = selectors.archive_list(user=reg.manager_x, filters={"q": items["y_old"].sms_number})
    assert list(found) == []  # a search never reaches outside the scope either


def test_list_page_with_another_stores_id_lists_nothing_and_says_why(reg, items, host_a):
    client = Client(HTTP_HOST=host_a)
    client.force_login(reg.manager_x)
    response = client.get("/items/", {"site": reg.site_y.pk})
    assert response.status_code == 200
    assert response.context["items"] == []
    html = response.content.decode()
    assert items["y_tusk"].sms_number not in html and items["x_tusk"].sms_number not in html
    assert "Select a valid choice" in html
    assert "Store Y" not in html  # not even among the choices
    assert "<details open" in html  # the filters, with the message, are shown


def test_category_filter_reads_the_types_ids_not_a_join(reg, items):
    queryset = selectors.item_list(user=reg.hq, filters={"category": reg.pangolin.pk})
    assert pks(queryset) == {items["x_scales"].pk}
    where = str(queryset.query).split(" WHERE ", 1)[1]
    assert f'"stock_stockitem"."item_type_id" IN ({reg.scales.pk})' in where
    assert "stock_itemtype" not in where  # the join is for showing the type, not filtering


def test_a_disabled_category_is_not_offered_but_its_link_still_filters(reg, items):
    ItemCategory.objects.filter(pk=reg.pangolin.pk).update(enabled=False)
    filterset = selectors.item_filter(user=reg.hq, data={"category": reg.pangolin.pk})
    assert pks(filterset.qs) == {items["x_scales"].pk}
    offered = [value for value, _label in filterset.form.fields["category"].choices if value]
    assert [str(v) for v in offered] == [str(reg.ivory.pk)]


def test_a_date_that_is_not_one_shows_nothing_and_says_so(reg, items):
    filterset = selectors.item_filter(user=reg.hq, data={"received_from": "2024-13-45"})
    assert list(filterset.qs) == [] and "received_from" in filterset.form.errors
    assert pks(
        selectors.item_list(user=reg.hq, filters={"received_to": datetime.date(2024, 5, 2)})
    ) == {items["x_tusk"].pk}


def test_the_filter_forms_keep_their_names_labels_and_choices(reg):
    form = selectors.item_filter(user=reg.hq).form
    assert list(form.fields) == [
        "q",
        "site",
        "category",
        "item_type",
        "status",
        "source",
        "legal_status",
        "received_from",
        "received_to",
    ]
    assert [str(form.fields[n].label) for n in ("site", "item_type", "received_to")] == [
        "Store",
        "Type",
        "Received until",
    ]
    assert list(form.fields["status"].choices)[0] == ("", "All")
    assert form.fields["received_from"].widget.input_type == "date"
    archive = selectors.archive_filter(user=reg.hq).form
    assert list(archive.fields)[4:] == ["reason", "archived_from", "archived_to"]


def test_filters_in_french_keep_their_translations(reg):
    from django.utils import translation

    with translation.override("fr"):
        form = selectors.item_filter(user=reg.hq).form
        assert str(form.fields["site"].label) == "Magasin"
        assert list(form.fields["status"].choices)[0][1] == "Tous"
