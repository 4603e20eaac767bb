"""The operators' command that resets a user's two-step sign-in."""

import pytest
from django.core.management import CommandError, call_command
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_tenants.utils import schema_context

from accounts import services
from tests.factories import make_user

pytestmark = pytest.mark.django_db


def enrolled(username):
    user = make_user(username=username)
    TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
    services.backup_codes_regenerate(user=user)
    return user


def test_reset_touches_only_the_named_country(country_a, country_b):
    with schema_context(country_a.schema_name):
        user_a = enrolled("admin")
    with schema_context(country_b.schema_name):
        user_b = enrolled("admin")
    call_command("two_factor_reset", "admin", country="xa")
    with schema_context(country_a.schema_name):
        assert not TOTPDevice.objects.filter(user=user_a).exists()
        assert not StaticDevice.objects.filter(user=user_a).exists()
    with schema_context(country_b.schema_name):
        assert TOTPDevice.objects.filter(user=user_b).exists()


def test_unknown_user_or_country_is_an_error(country_a):
    with pytest.raises(CommandError, match="No user nobody"):
        call_command("two_factor_reset", "nobody", country="XA")
    with pytest.raises(CommandError, match="No country"):
        call_command("two_factor_reset", "admin", country="QQ")
