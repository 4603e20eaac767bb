"""Every view declares what it shows for the access log, with the enum's
actions only: the walk over both URL confs (country and public host) that the
``audit`` system check and this test share."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpResponse
from django.urls import path

from audit.checks import check_access_declarations, undeclared_views
from audit.services import event_record
from core.access import AccessAction, access_exempt, declaration_of_callback, logs_access


def forgotten(request):
    return HttpResponse("a page someone added without a declaration")


@logs_access(AccessAction.ITEM_LIST)
def declared(request):
    return HttpResponse("")


# A URL conf of its own, for the check to find ``forgotten`` in.
urlpatterns = [path("forgotten/", forgotten, name="forgotten"), path("ok/", declared)]


def test_every_view_of_both_url_confs_declares_what_it_shows():
    missing = undeclared_views()
    assert not missing, (
        "Views with no access-log declaration (decorate with core.access.logs_access(...) "
        "or access_exempt('why')):\n" + "\n".join(missing)
    )


def test_a_view_without_a_declaration_is_named_and_stops_start_up(settings):
    settings.ROOT_URLCONF = __name__
    errors = check_access_declarations()
    assert [error.id for error in errors] == ["audit.E001"]
    assert "/forgotten/ (forgotten)" in errors[0].msg
    assert f"{__name__}.forgotten" in errors[0].msg


def test_only_the_enums_actions_are_accepted():
    with pytest.raises(ImproperlyConfigured):
        logs_access("odk.qr_view")
    with pytest.raises(ImproperlyConfigured):
        access_exempt("  ")
    with pytest.raises(ImproperlyConfigured, match="declared twice"):
        access_exempt("no reason to log")(declared)
    assert declaration_of_callback(declared).action == AccessAction.ITEM_LIST


@pytest.mark.django_db
def test_the_log_refuses_an_action_outside_the_enum(in_country_a):
    with pytest.raises(ValueError):
        event_record(user=None, action="odk.qr_view")
    assert event_record(user=None, action="qr_view").action == AccessAction.QR_VIEW
