"""The provision_country and demo_setup commands, as an operator runs them."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django_tenants.utils import schema_context

from tenants.models import Country
from tests.accounts.helpers import log_in
from tests.provisioning.helpers import protocol_data, protocol_yaml, write_protocol

# Provisioning creates country schemas: it runs as the database owner
# (core.dbroles; tests/database_roles.py).
pytestmark = [pytest.mark.django_db, pytest.mark.database_owner]


def run(*args) -> str:
    out = StringIO()
    call_command("provision_country", *args, stdout=out)
    return out.getvalue()


def no_trace_of(code: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM information_schema.schemata WHERE schema_name = %s", [code.lower()]
        )
        schema = cursor.fetchone()
    return schema is None and not Country.objects.filter(code=code).exists()


def test_output_lists_the_plan_then_the_links(tmp_path):
    path = write_protocol(tmp_path, protocol_data("XN"))
    out = run(str(path))
    assert "Plan for XN — Emland (new country):" in out
    assert '  + site central "Central Store"' in out
    assert '  + custom field condition "Condition"' in out
    assert "Done: " in out and " 0 updated, 0 deactivated." in out
    assert "Country address: http://xn.localhost:8000/" in out
    assert "Ada Admin <ada@emland.example> username: ada" in out
    assert "    http://xn.localhost:8000/accounts/password/reset/key/" in out

    data = protocol_data("XN")
    data["sites"][1]["name"] = "North Strongroom"
    del data["custom_fields"][2]
    out = run(str(write_protocol(tmp_path, data)))
    assert "Plan for XN — Emland (existing country):" in out
    assert '  ~ site north: name "North Store" → "North Strongroom"' in out
    assert "  - custom field seal: deactivated (kept, not deleted)" in out
    assert "Done: 0 created, 1 updated, 1 deactivated." in out
    assert "One-time links" not in out

    assert "nothing to change" in run(str(path.parent / "protocol.yaml"))


def test_dry_run_prints_the_plan_and_creates_nothing(tmp_path):
    out = run(str(write_protocol(tmp_path, protocol_data("XP"))), "--dry-run")
    assert '  + administrator ada "Ada Admin"' in out
    assert "Dry run: nothing was changed" in out
    assert "reset/key" not in out
    assert no_trace_of("XP")


@pytest.mark.parametrize(
    ("breakage", "expected"),
    [
        ("yaml", "YAML syntax error at line"),
        ("missing", "sites[0].code: this key is required"),
        ("semantic", 'custom_fields[0].applies_to[0]: unknown item type "tusks"'),
    ],
)
def test_broken_protocol_fails_cleanly(tmp_path, breakage, expected):
    data = protocol_data("XQ")
    if breakage == "missing":
        del data["sites"][0]["code"]
    if breakage == "semantic":
        data["custom_fields"][0]["applies_to"] = ["tusks"]
    text = protocol_yaml(data)
    if breakage == "yaml":
        text = text.replace("kind: ivory", "kind: ivory: [", 1)
    path = tmp_path / "broken.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CommandError) as caught:
        run(str(path))
    message = str(caught.value)
    assert message.startswith(f"{path} is not a valid protocol; nothing was changed:")
    assert expected in message
    assert no_trace_of("XQ")


@pytest.mark.slow  # registers the demo's 300 items and their photos
def test_demo_setup_is_idempotent_and_its_logins_work(client):
    from accounts.models import User
    from stock.models import Site

    out = StringIO()
    call_command("demo_setup", stdout=out)
    first = out.getvalue()
    assert "Demo country XD — Demoland:" in first
    assert "http://xd.localhost:8000/  hq " in first
    assert "demo-hq-pass" in first and "http://localhost:8000/" in first

    with schema_context("xd"):
        hashes = dict(User.objects.values_list("username", "password"))

    out = StringIO()
    call_command("demo_setup", stdout=out)
    assert "0 created, 0 updated, 0 deactivated" in out.getvalue()
    with schema_context("xd"):
        # Passwords are not hashed again: a session open before a restart of
        # `./sms run` (which runs demo_setup) stays valid.
        assert dict(User.objects.values_list("username", "password")) == hashes
        _assert_the_demo_teaches()

    with schema_context("xd"):
        assert Site.objects.count() == 4
        assert User.objects.filter(is_active=True).count() == 6
        assert User.objects.get(username="hq.pt").language == "pt"
        north = User.objects.get(username="store.north")
        assert list(north.scoped_sites.values_list("code", flat=True)) == ["north-store"]
        assert not north.all_sites
        assert north.groups.get().name == "Store manager"
        assert User.objects.get(username="hq").all_sites
    staff = User.objects.get(username="staff")  # the public schema
    assert staff.is_staff and staff.check_password("demo-staff-2fa")

    response = log_in(client, "xd.localhost", "hq", "demo-hq-pass")
    assert response.status_code == 302
    assert "_auth_user_id" in client.session


def _assert_the_demo_teaches():
    """The demo shows plausible stock and daily work (connection on XD)."""
    from custody.models import Discrepancy, StockTake, Transfer
    from ledger.chain import verify_chain
    from stock.models import StockItem

    items = StockItem.objects.select_related("item_type__category")
    assert items.count() == 300
    ivory = items.filter(item_type__category__kind="ivory")
    assert ivory.exists() and not ivory.filter(source="dehorning").exists()
    assert {"seizure", "natural_mortality", "management"} <= set(
        ivory.values_list("source", flat=True)
    )
    horns = items.filter(item_type__category__kind="rhino_horn", item_type__counting="piece")
    assert horns.exists()
    assert set(horns.values_list("horn_position", flat=True)) == {"anterior", "posterior"}
    assert not horns.filter(source="unknown").exists()
    states = set(Transfer.objects.values_list("status", flat=True))
    assert {"draft", "dispatched", "received"} <= states
    assert Discrepancy.objects.filter(resolution="").count() == 2
    assert StockTake.objects.filter(status="signed_off").count() == 1
    assert StockTake.objects.filter(status="open").count() == 1
    assert items.filter(status="missing").count() == 1
    assert verify_chain(full=True).ok
