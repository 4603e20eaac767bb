"""Passwords are stored with the project's slow hasher, whatever the tests use.

Every other test hashes with MD5 for speed (tests/conftest.py); this one runs
with the project's own hashers, so a weak hasher slipped into the settings, or
a login that only works with the tests' fast one, shows here.
"""

import pytest
from django.contrib.auth.hashers import get_hasher, identify_hasher
from django_tenants.utils import schema_context

from tests.accounts.helpers import is_signed_in, log_in
from tests.factories import DEFAULT_PASSWORD, make_user

pytestmark = [pytest.mark.django_db, pytest.mark.real_password_hasher]


def test_passwords_are_stored_with_pbkdf2_and_sign_in_works(client, country_a, host_a):
    hasher = get_hasher()
    assert hasher.algorithm == "pbkdf2_sha256"
    with schema_context(country_a.schema_name):
        user = make_user(username="slow-hash")
    stored = identify_hasher(user.password)
    assert stored.algorithm == "pbkdf2_sha256"
    assert stored.decode(user.password)["iterations"] >= hasher.iterations
    assert log_in(client, host_a, "slow-hash", DEFAULT_PASSWORD).status_code == 302
    assert is_signed_in(client, host_a)
