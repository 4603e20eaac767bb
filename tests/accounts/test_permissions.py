"""accounts.permissions: the one answer to "may this actor do X"."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied

from accounts.permissions import may, may_any, require, require_any
from accounts.roles import HQ_OFFICER, STORE_MANAGER
from tests.factories import make_user

pytestmark = pytest.mark.django_db


def test_only_an_active_account_holding_the_permission_may(in_country_a):
    manager = make_user(role=STORE_MANAGER)
    hq = make_user(role=HQ_OFFICER)
    assert may(manager, "stock.correct_item") and not may(hq, "stock.correct_item")
    for nobody in (None, AnonymousUser()):
        assert not may(nobody, "stock.view_stockitem")
    manager.is_active = False
    manager.save(update_fields=["is_active"])
    assert not may(manager, "stock.view_stockitem")
    assert may_any(hq, "stock.correct_item", "stock.view_stockitem")


def test_require_refuses_with_the_translated_message_or_the_one_given(in_country_a):
    hq = make_user(role=HQ_OFFICER)
    require(hq, "stock.view_stockitem", "reporting.view_reports")
    with pytest.raises(PermissionDenied, match="You are not allowed to do this."):
        require(hq, "stock.view_stockitem", "stock.correct_item")  # every one is needed
    with pytest.raises(PermissionDenied, match="Only SMS administrators"):
        require(hq, "odk.manage_odk", message="Only SMS administrators manage ODK.")
    require_any(hq, "stock.correct_item", "stock.view_stockitem")
    with pytest.raises(PermissionDenied):
        require_any(hq, "stock.correct_item", "stock.archive_item")
    with pytest.raises(PermissionDenied):
        require(hq)  # asking for nothing is a mistake, never a pass
