"""The main menu (sms_platform.templatetags.sms_nav): the links each user's
permissions open, as the template it replaced wrote them, in every language,
on a country's host and on the platform's."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.context_processors import PermWrapper
from django.contrib.auth.models import AnonymousUser
from django.template import Context, Template
from django.urls import set_urlconf
from django.utils import translation

from accounts.roles import HQ_OFFICER, SMS_ADMINISTRATOR, STORE_MANAGER
from tests.factories import make_user

pytestmark = pytest.mark.django_db

# The template the tag replaced, as it was: the reference.
BEFORE = Template(
    '{% load i18n %}{% if user.is_authenticated %}{% if country %}<a href="{% url \'home\' %}">{% translate "Dashboard" %}</a>{% if perms.stock.view_stockitem %}<a href="{% url \'stock:item_list\' %}">{% translate "Items" %}</a>{% endif %}{% if perms.stock.register_item %}<a href="{% url \'stock:item_register\' %}">{% translate "Register an item" %}</a>{% endif %}{% if perms.stock.view_stockitem %}<a href="{% url \'stock:archive_list\' %}">{% translate "Archive" %}</a><a href="{% url \'stock:marks_to_do\' %}">{% translate "Marks to do" %}</a><a href="{% url \'custody:transfer_list\' %}">{% translate "Transfers" %}</a><a href="{% url \'custody:stocktake_list\' %}">{% translate "Stock-takes" %}</a>{% endif %}{% if perms.custody.verify_ledger %}<a href="{% url \'custody:ledger_check\' %}">{% translate "Ledger check" %}</a>{% endif %}{% if perms.reporting.view_reports %}<a href="{% url \'reporting:home\' %}">{% translate "Reports" %}</a>{% endif %}{% if perms.stock.change_customfielddefinition %}<a href="{% url \'stock:custom_field_list\' %}">{% translate "Custom fields" %}</a>{% endif %}{% if perms.imports.import_register %}<a href="{% url \'imports:home\' %}">{% translate "Import a register" %}</a>{% endif %}{% if perms.odk.manage_odk %}<a href="{% url \'odk:overview\' %}">{% translate "ODK" %}</a>{% endif %}{% if perms.accounts.manage_users or perms.accounts.view_access_log or perms.administration.approve_correction %}<a href="{% url \'administration:home\' %}">{% translate "Administration" %}</a>{% endif %}{% else %}<a href="{% url \'console\' %}">{% translate "Countries" %}</a><a href="{% url \'my_support_grants\' %}">{% translate "My support access" %}</a>{% endif %}{% endif %}'
)
AFTER = Template("{% load sms_nav %}{% main_menu %}")


def _both(user, country) -> tuple[str, str]:
    context = {"user": user, "country": country, "perms": PermWrapper(user)}
    return BEFORE.render(Context(context)), AFTER.render(Context(context))


@pytest.mark.parametrize("language", ["en", "fr", "pt"])
def test_the_menu_shows_what_each_role_may_open_as_before(in_country_a, country_a, language):
    users = [
        make_user(role=STORE_MANAGER),
        make_user(role=HQ_OFFICER, all_sites=True),
        make_user(role=SMS_ADMINISTRATOR, all_sites=True),
        make_user(),  # no role: the dashboard only
        AnonymousUser(),
    ]
    menus = []
    with translation.override(language):
        for user in users:
            before, after = _both(user, country_a)
            assert after == before
            menus.append(after)
    manager, hq, admin, nobody, anonymous = menus
    assert len({manager, hq, admin, nobody}) == 4 and anonymous == ""
    assert "/items/" in manager and "/administration/" in admin and "/items/" not in nobody


def test_the_console_menu_on_the_platforms_host(db):
    set_urlconf("sms_platform.urls_public")
    try:
        staff = get_user_model().objects.create_user("console-staff", is_staff=True)
        before, after = _both(staff, None)
        assert after == before
        assert after.count("<a href=") == 2
    finally:
        set_urlconf(None)
