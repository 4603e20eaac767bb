"""The optional ``odk`` section of the inventory protocol: validated with the
rest of the file, applied by provisioning, the password only ever read from
the environment variable the file names. Country code XS is used only here."""

import pytest
from django_tenants.utils import schema_context

from odk import crypto
from odk.models import CentralConnection
from provisioning.protocol import ProtocolInvalid, protocol_parse
from provisioning.services import CREATE, UPDATE, country_provision
from tests.provisioning.helpers import protocol_data, protocol_yaml

# Provisioning creates country schemas: it runs as the database owner
# (core.dbroles; tests/database_roles.py).
pytestmark = [pytest.mark.django_db, pytest.mark.database_owner]

ODK = {
    "url": "https://central.example.org/",
    "username": "sms@example.org",
    "password_env": "SMS_XS_CENTRAL_PASSWORD",
    "project_name": "SMS Esland",
}


def _protocol(**odk):
    data = protocol_data("XS")
    data["odk"] = {**ODK, **odk}
    return data


def _provision(data):
    return country_provision(protocol=protocol_parse(protocol_yaml(data)), send_invitations=False)


def _issues(data) -> dict:
    with pytest.raises(ProtocolInvalid) as caught:
        protocol_parse(protocol_yaml(data))
    return {issue.path: issue.message for issue in caught.value.issues}


def test_the_odk_section_sets_up_the_connection_with_the_password_from_the_environment(
    monkeypatch,
):
    monkeypatch.setenv("SMS_XS_CENTRAL_PASSWORD", "first-secret")
    result = _provision(_protocol())
    assert any(c.action == CREATE and "ODK" in c.kind for c in result.changes)
    with schema_context("xs"):
        conn = CentralConnection.objects.get()
        assert conn.base_url == "https://central.example.org"
        assert conn.username == "sms@example.org" and conn.project_name == "SMS Esland"
        assert crypto.decrypt(conn.password_encrypted) == "first-secret"
        assert "first-secret" not in conn.password_encrypted
    # The same file again changes nothing.
    assert [c for c in _provision(_protocol()).changes if "ODK" in c.kind] == []
    # A new password in the environment is applied, and never printed.
    monkeypatch.setenv("SMS_XS_CENTRAL_PASSWORD", "second-secret")
    [change] = [c for c in _provision(_protocol()).changes if "ODK" in c.kind]
    assert change.action == UPDATE and "second-secret" not in str(change)
    assert "SMS_XS_CENTRAL_PASSWORD" in str(change)
    with schema_context("xs"):
        assert crypto.decrypt(CentralConnection.objects.get().password_encrypted) == (
            "second-secret"
        )


def test_a_password_written_in_the_file_is_refused(monkeypatch):
    monkeypatch.setenv("SMS_XS_CENTRAL_PASSWORD", "x")
    issues = _issues(_protocol(password="in-the-file"))
    assert "never write the Central password in the file" in issues["odk"]


def test_the_password_variable_must_be_set_and_the_values_sound(monkeypatch):
    monkeypatch.delenv("SMS_XS_CENTRAL_PASSWORD", raising=False)
    issues = _issues(_protocol())
    assert "SMS_XS_CENTRAL_PASSWORD is not set" in issues["odk.password_env"]
    issues = _issues(_protocol(url="central.example.org", username="nobody", password_env="lower"))
    assert "https://" in issues["odk.url"]
    assert "e-mail" in issues["odk.username"]
    assert "capital letters" in issues["odk.password_env"]


def test_a_protocol_without_odk_section_leaves_odk_alone(monkeypatch):
    result = _provision(protocol_data("XS"))
    assert [c for c in result.changes if "ODK" in c.kind] == []
    with schema_context("xs"):
        assert CentralConnection.objects.count() == 0
