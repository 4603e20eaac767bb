"""Pages that cost what their data costs (issue 17): the scope and the
category as literal ids the planner can use, the stores and types read from
the cache and still right after a change, the dashboard summed in one
statement, permissions and roles in one query, no server-side cursor on the
list, and sessions that end everywhere though they are read from the cache."""

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from accounts.permissions import may
from accounts.roles import HQ_OFFICER, ROLES, STORE_MANAGER, role_of
from core.forms import QuickSelect
from stock import selectors
from stock.models import StockItem
from stock.scope import restrict_to_scope, visible_site_ids
from tests.factories import ItemTypeFactory, SiteFactory, make_user
from tests.stock.conftest import register

pytestmark = pytest.mark.django_db


def test_the_scope_is_written_with_the_users_site_ids_not_a_subquery(reg):
    sql = str(selectors.item_list(user=reg.manager_x).query)
    where = sql.split(" WHERE ", 1)[1]
    assert f'"stock_stockitem"."site_id" IN ({reg.site_x.pk})' in where
    assert "scoped_users" not in sql
    # Everyone else: no store at all for a user given none, nothing for an inactive one.
    nobody = make_user(role=STORE_MANAGER)
    assert list(restrict_to_scope(StockItem.objects.all(), nobody)) == []
    reg.manager_x.is_active = False
    assert visible_site_ids(reg.manager_x) == frozenset()
    assert list(selectors.item_list(user=reg.manager_x)) == []


def test_a_scope_changed_on_either_side_is_seen_at_once_by_the_same_user_object(reg):
    item_y = register(reg, site=reg.site_y, actor=reg.manager_y)
    manager = reg.manager_x
    assert visible_site_ids(manager) == {reg.site_x.pk}  # kept on the object now
    reg.site_y.scoped_users.add(manager)  # from the store's side
    assert visible_site_ids(manager) == {reg.site_x.pk, reg.site_y.pk}
    assert item_y in selectors.item_list(user=manager)
    manager.scoped_sites.remove(reg.site_y)  # from the user's side
    assert visible_site_ids(manager) == {reg.site_x.pk}
    assert item_y not in selectors.item_list(user=manager)


def test_the_kept_site_ids_are_not_carried_into_another_country(reg, country_b):
    manager = reg.manager_x
    assert visible_site_ids(manager) == {reg.site_x.pk}
    with schema_context(country_b.schema_name):
        # The same id in another schema is another person, with no store here.
        assert visible_site_ids(manager) == frozenset()


def test_filter_options_come_from_the_cache_and_follow_a_change_at_once(reg, host_a):
    client = Client(HTTP_HOST=host_a)
    client.force_login(reg.manager_x)
    page = client.get("/items/").content.decode()
    assert "Store X" in page and "Store Y" not in page
    reg.site_x.name = "Store X, renamed"
    reg.site_x.save()
    new = SiteFactory(code="site-z", name="Store Z")
    new.scoped_users.add(reg.manager_x)
    with CaptureQueriesContext(connection) as queries:
        page = client.get("/items/").content.decode()
    assert "Store X, renamed" in page and "Store Z" in page and "Store Y" not in page
    # The stores, categories and types offered: no query for them, no cursor.
    sql = [q["sql"] for q in queries.captured_queries]
    assert not any(s.lstrip().upper().startswith("DECLARE") for s in sql)
    with CaptureQueriesContext(connection) as queries:
        client.get("/items/")
    assert not any(
        'FROM "stock_site"' in q["sql"] or 'FROM "stock_itemtype"' in q["sql"]
        for q in queries.captured_queries
    )


def test_a_category_filters_by_its_types_ids_from_the_cache(reg):
    register(reg, item_type=reg.scales)
    assert selectors.item_filter(user=reg.hq, data={}).form  # the catalogue is cached now
    new_type = ItemTypeFactory(code="scales-bag", category=reg.pangolin, counting="lot")
    sql = str(selectors.item_list(user=reg.hq, filters={"category": reg.pangolin.pk}).query)
    assert f"IN ({reg.scales.pk}, {new_type.pk})" in sql


def test_the_dashboard_is_one_statement_over_the_totals(reg):
    register(reg)
    register(reg, site=reg.site_y, actor=reg.manager_y)
    selectors.dashboard_totals(user=reg.manager_x)  # stores, types and scope kept
    with CaptureQueriesContext(connection) as queries:
        mine = selectors.dashboard_totals(user=reg.manager_x)
    assert len(queries.captured_queries) == 1
    assert "GROUPING SETS" in queries.captured_queries[0]["sql"]
    assert mine["overall"]["items"] == 1
    assert [row["site"] for row in mine["per_site"]] == [reg.site_x]
    assert selectors.dashboard_totals(user=reg.hq)["overall"]["items"] == 2
    nobody = make_user(role=STORE_MANAGER)
    assert selectors.dashboard_totals(user=nobody)["overall"]["items"] == 0
    assert selectors.dashboard_totals(user=nobody)["per_site"] == []


def test_dashboard_links_are_prepared_and_go_to_the_right_items(reg, host_a):
    register(reg)
    client = Client(HTTP_HOST=host_a)
    client.force_login(reg.manager_x)
    page = client.get("/").content.decode()
    assert f'href="/items/?status=in_stock&amp;site={reg.site_x.pk}"' in page
    assert f'href="/items/?status=in_stock&amp;category={reg.ivory.pk}"' in page
    assert f'href="/items/?status=in_stock&amp;item_type={reg.tusk.pk}"' in page
    assert "Store Y" not in page


def test_permissions_and_roles_are_read_in_one_query_per_user_object(reg):
    from accounts.models import User

    user = User.objects.get(pk=reg.manager_x.pk)
    with CaptureQueriesContext(connection) as queries:
        assert may(user, "stock.view_stockitem")
        assert not may(user, "accounts.manage_users")
        assert role_of(user) == ROLES[STORE_MANAGER]
    assert len(queries.captured_queries) == 1
    # Groups changed on this object: read again.
    user.groups.set([Group.objects.get(name=ROLES[HQ_OFFICER].name)])
    assert role_of(user) == ROLES[HQ_OFFICER]
    inactive = User.objects.get(pk=reg.manager_y.pk)
    inactive.is_active = False
    assert not may(inactive, "stock.view_stockitem")


def test_an_ended_session_is_gone_from_the_cache_too(reg, host_a):
    from administration import services as admin_services

    client = Client(HTTP_HOST=host_a)
    client.force_login(reg.manager_x)
    assert client.get("/items/").status_code == 200  # the session is cached now
    assert admin_services.user_sessions_end(actor=reg.admin, user=reg.manager_x) == 1
    response = client.get("/items/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_quick_select_writes_what_djangos_select_writes():
    from django import forms

    choices = [("", "All"), (1, "Store <b>&</b>"), (2, 'Store "2"')]
    quick = QuickSelect(choices=choices).render("site", "2", attrs={"id": "id_site"})
    django = forms.Select(choices=choices).render("site", "2", attrs={"id": "id_site"})
    assert quick == django
    assert "<b>" not in quick


def test_quick_inputs_write_what_djangos_inputs_write():
    import datetime

    from django import forms

    from core.forms import DateInput, QuickTextInput

    attrs = {"type": "search", "placeholder": 'Number, "mark" & <store>', "required": True}
    for value in (None, "", 'XA "25"/1 <b>&', 42):
        for extra in ({"id": "id_q"}, {"id": "id_q", "disabled": False, "autofocus": True}):
            quick = QuickTextInput(attrs=attrs).render("q", value, attrs=extra)
            django = forms.TextInput(attrs=attrs).render("q", value, attrs=extra)
            assert quick == django
    day = datetime.date(2026, 2, 3)
    for value in (None, "", day, "2026-13-40"):
        quick = DateInput().render("received_from", value, attrs={"id": "id_from"})
        django = forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}).render(
            "received_from", value, attrs={"id": "id_from"}
        )
        assert quick == django
    assert 'value="2026-02-03"' in DateInput().render("d", day)
    assert "<b>" not in QuickTextInput().render("q", "<b>")


def _list_statements(client, path) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == 200
    return [q["sql"] for q in queries.captured_queries]


def test_the_item_list_reads_its_columns_in_statements_that_do_not_grow_with_its_rows(reg, host_a):
    from tests.stock.conftest import image_bytes, upload

    client = Client(HTTP_HOST=host_a)
    client.force_login(reg.hq)
    register(reg)
    client.get("/items/")  # the stores, types and scope are kept now
    one = _list_statements(client, "/items/")
    # More rows, of every kind a row shows: another store and type, a lot,
    # a mark, a photo (thumbnail), a provisional weight.
    register(reg, site=reg.site_y, actor=reg.manager_y, item_type=reg.scales)
    register(reg, cites_mark=None, photos=[upload(image_bytes())], weight_is_final=False)
    register(reg, item_type=reg.cut_piece, weight_kg="0.400")
    page = client.get("/items/").content.decode()
    assert page.count('name="item" value=') == 4 and "provisional" in page
    # The thumbnail is the item's first photo, found in the list's own query.
    photo = StockItem.objects.get(weight_is_final=False).photos.earliest("uploaded_at")
    assert page.count("/thumbnail/") == 1 and f"/photos/{photo.pk}/thumbnail/" in page
    many = _list_statements(client, "/items/")
    assert len(many) == len(one)
    rows = next(sql for sql in many if 'FROM "stock_stockitem"' in sql and "LIMIT 51" in sql)
    # The list's own columns only (not the notes, custom values, DNA ...).
    assert '"stock_stockitem"."notes"' not in rows
    assert '"stock_stockitem"."custom_values"' not in rows


def test_a_search_is_one_statement_for_its_prefixes_and_none_for_store_and_type_names(reg, host_a):
    tusk = register(reg, species="Loxodonta africana")
    register(reg, site=reg.site_y, actor=reg.manager_y, item_type=reg.scales)
    client = Client(HTTP_HOST=host_a)
    client.force_login(reg.hq)
    client.get("/items/")  # the stores and types are kept now
    for words, expected in (
        ("loxo", {tusk.sms_number}),  # species
        (tusk.sms_number.lower(), {tusk.sms_number}),  # digits: the marks' patterns too
        ("store y", None),  # a store's name: its items
        ("scales", None),  # a type's code
    ):
        sql = _list_statements(client, f"/items/?q={words}")
        assert not any(
            f'FROM "stock_{table}"' in s
            for s in sql
            for table in ("site", "itemtype", "itemcategory")
        ), words
        prefix = [s for s in sql if "LIKE" in s and "UNION ALL" in s]
        assert len(prefix) == 1, words
        page = client.get(f"/items/?q={words}").content.decode()
        if expected:
            assert all(number in page for number in expected)
    page = client.get("/items/?q=store y").content.decode()
    assert "Store Y" in page and page.count('name="item" value=') == 1


def test_the_catalogue_is_made_once_per_process_until_it_changes(reg):
    from stock import catalogue

    first = catalogue.load()
    assert catalogue.load() is first
    with CaptureQueriesContext(connection) as queries:
        assert catalogue.load().types_named("scales") == [reg.scales.pk]
    assert queries.captured_queries == []
    reg.scales.labels = {"en": "Pangolin scales, bagged"}
    reg.scales.save()  # as another process would: the token is gone from the cache
    changed = catalogue.load()
    assert changed is not first
    assert changed.types_named("bagged") == [reg.scales.pk]
    assert changed.sites_named("store x") == [reg.site_x.pk]
    assert changed.sites_named("site-y") == [reg.site_y.pk]
    assert changed.sites_named("site") == []  # a code matches whole, a name in part


def test_the_filter_values_are_checked_against_the_cached_ones_without_a_query(reg):
    register(reg)
    assert selectors.item_filter(user=reg.manager_x, data={}).form  # the catalogue is kept now
    data = {"site": str(reg.site_x.pk), "category": reg.ivory.pk, "item_type": str(reg.tusk.pk)}
    with CaptureQueriesContext(connection) as queries:
        filterset = selectors.item_filter(user=reg.manager_x, data=data)
        assert not filterset.form.errors
    assert not any(
        f'FROM "stock_{table}"' in q["sql"]
        for q in queries.captured_queries
        for table in ("site", "itemcategory", "itemtype")
    )
    assert filterset.form.cleaned_data["site"] == reg.site_x
    assert filterset.form.cleaned_data["item_type"] == reg.tusk
    assert len(filterset.qs) == 1
    # What is not one of them — another store, an unknown id, not a number — is refused.
    for name, value in (
        ("site", reg.site_y.pk),
        ("site", "999999"),
        ("category", "ivory"),
        ("item_type", "1\x00"),
        ("item_type", "1.5"),
    ):
        filterset = selectors.item_filter(user=reg.manager_x, data={name: value})
        assert name in filterset.form.errors, (name, value)
        assert list(filterset.qs) == []


def test_a_countrys_host_is_looked_up_once_until_a_country_changes(reg, host_a, country_a):
    from tenants.models import Country

    client = Client(HTTP_HOST=host_a)
    client.force_login(reg.hq)
    assert client.get("/items/").status_code == 200
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/items/").status_code == 200
    assert not any('FROM "tenants_domain"' in q["sql"] for q in queries.captured_queries)
    # Suspended from its own schema (the key of the token is the public
    # schema's whatever the connection's): the next request is refused.
    country = Country.objects.get(pk=country_a.pk)
    country.status = Country.Status.SUSPENDED
    country.save()
    assert client.get("/items/").status_code == 503
    country.status = Country.Status.ACTIVE
    country.save()
    assert client.get("/items/").status_code == 200
    assert Client(HTTP_HOST="nowhere.localhost").get("/items/").status_code == 404


def test_the_shared_filter_form_class_offers_and_accepts_each_users_own_stores(reg):
    from audit.filters import AccessEventFilterSet
    from audit.models import AccessEvent

    # Whoever comes first makes the form class; the next user sees their own scope.
    for first, then in ((reg.hq, reg.manager_x), (reg.manager_x, reg.hq)):
        from core.filters import ScopedFilterSet

        ScopedFilterSet._form_classes.clear()
        for user in (first, then):
            form = selectors.item_filter(user=user, data={"site": reg.site_y.pk}).form
            sees_y = user == reg.hq
            assert (reg.site_y in form.fields["site"].queryset) is sees_y
            assert ("site" in form.errors) is not sees_y
            assert (f'value="{reg.site_y.pk}"' in str(form["site"])) is sees_y
            # The activity page's filter (the same SiteFilter, without the catalogue).
            log = AccessEventFilterSet(
                {"site": reg.site_y.pk}, queryset=AccessEvent.objects.all(), user=user
            ).form
            assert (reg.site_y in log.fields["site"].queryset) is sees_y
            assert ("site" in log.errors) is not sees_y


def test_model_choices_are_read_in_one_plain_query_not_a_server_side_cursor(reg):
    from django import forms
    from django.contrib.auth.models import Permission

    from accounts.models import User
    from administration.forms import _PermissionChoice, _RoleChoice, _SiteChoice
    from audit.filters import PersonChoiceField
    from stock.fields import ItemTypeChoiceField, SiteChoiceField
    from stock.filters import CategoryChoiceField
    from stock.models import ItemCategory, ItemType, Site

    fields = {
        SiteChoiceField: Site.objects.all(),
        ItemTypeChoiceField: ItemType.objects.select_related("category"),
        CategoryChoiceField: ItemCategory.objects.all(),
        PersonChoiceField: User.objects.order_by("username"),
        _RoleChoice: Group.objects.all(),
        _SiteChoice: Site.objects.all(),
        _PermissionChoice: Permission.objects.select_related("content_type").filter(
            content_type__app_label="stock"
        ),
    }
    for field_class, queryset in fields.items():
        field = field_class(queryset=queryset)
        with CaptureQueriesContext(connection) as queries:
            html = field.widget.render("x", None, attrs={"id": "id_x"})
        sql = [q["sql"] for q in queries.captured_queries]
        assert len(sql) == 1 and not sql[0].lstrip().upper().startswith("DECLARE"), field_class
        # The same options as Django's own field would offer.
        django = (
            forms.ModelMultipleChoiceField
            if isinstance(field, forms.ModelMultipleChoiceField)
            else forms.ModelChoiceField
        )(queryset=queryset)
        django.label_from_instance = field.label_from_instance
        if field_class is CategoryChoiceField:  # it offers the enabled ones
            django.queryset = queryset.filter(enabled=True)
        assert html == django.widget.render("x", None, attrs={"id": "id_x"}), field_class
        assert html.count("<option") >= 2, field_class


def test_each_country_has_its_own_kept_catalogue(reg, country_b):
    from stock import catalogue

    mine = catalogue.load()
    assert {site.name for site in mine.sites.values()} == {"Store X", "Store Y"}
    with schema_context(country_b.schema_name):
        SiteFactory(code="site-b", name="Store of B")
        theirs = catalogue.load()
        assert theirs is not mine
        assert {site.name for site in theirs.sites.values()} == {"Store of B"}
        assert theirs.sites_named("store x") == []
    # Back in A: A's own, still kept, and B's store is not among its names.
    assert catalogue.load() is mine
    assert mine.sites_named("store of b") == []


def test_a_store_saved_in_a_country_inside_a_transaction_of_the_public_schema(
    country_a, django_capture_on_commit_callbacks
):
    """Provisioning commits on the public schema after saving a country's
    stores: the token deleted on commit is the country's own."""
    from django.core.cache import cache
    from django.db import transaction

    from stock import catalogue

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        with schema_context(country_a.schema_name):
            SiteFactory(code="site-new", name="Store New")
            # Meanwhile another process made the catalogue from what it saw then.
            cache.set(catalogue.TOKEN_KEY, "made-before-the-commit")
    with schema_context(country_a.schema_name):
        assert cache.get(catalogue.TOKEN_KEY) is None
        assert "Store New" in {site.name for site in catalogue.load().sites.values()}
