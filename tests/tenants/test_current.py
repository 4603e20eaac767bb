"""tenants.current: the one answer to "which country is this?", and nothing
else in the code asks the connection or looks the schema up itself."""

import ast
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context, tenant_context

from tenants.current import current_country, current_country_code

pytestmark = pytest.mark.django_db

BASE = Path(settings.BASE_DIR)
APPS = [
    "accounts",
    "administration",
    "audit",
    "core",
    "custody",
    "odk",
    "provisioning",
    "reporting",
    "sms_platform",
    "stock",
    "tenants",
]


def test_a_routed_country_is_answered_without_a_query(country_a):
    with tenant_context(country_a), CaptureQueriesContext(connection) as queries:
        assert current_country() == country_a
        assert current_country_code() == "XA"
    assert len(queries) == 0


def test_a_schema_entered_by_name_is_looked_up(country_a, country_b):
    with schema_context("xb"):
        assert current_country() == country_b
        assert current_country_code() == "XB"
    with schema_context(country_a.schema_name):
        assert current_country().time_zone == country_a.time_zone


def test_the_public_schema_is_no_country():
    with schema_context("public"):
        assert current_country() is None
        assert current_country_code() == ""


def _sources():
    for app in APPS:
        for path in (BASE / app).rglob("*.py"):
            if "migrations" not in path.parts:
                yield path


def _is_connection(attribute: ast.Attribute) -> bool:
    base = attribute.value
    return isinstance(base, ast.Name) and base.id in ("connection", "db_connection")


def test_no_module_but_tenants_current_reads_the_connections_country():
    """``connection.tenant`` and a Country looked up by the connection's schema
    name are read in tenants/current.py only."""
    offenders = []
    for path in _sources():
        relative = path.relative_to(BASE).as_posix()
        if relative == "tenants/current.py":
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr == "tenant" and _is_connection(node):
                offenders.append(f"{relative}:{node.lineno}")
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", None) == "getattr"
                and len(node.args) >= 2
                and getattr(node.args[0], "id", None) in ("connection", "db_connection")
                and getattr(node.args[1], "value", None) == "tenant"
            ):
                offenders.append(f"{relative}:{node.lineno}")
            if isinstance(node, ast.keyword) and node.arg == "schema_name":
                value = node.value
                if isinstance(value, ast.Attribute) and _is_connection(value):
                    offenders.append(f"{relative}:{node.lineno}")
    assert not offenders, "Use tenants.current.current_country():\n" + "\n".join(offenders)
