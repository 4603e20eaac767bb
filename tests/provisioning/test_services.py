"""Provisioning a country from a protocol: creation, idempotence, edits and
clean failures.

Each test provisions inside its own test transaction: PostgreSQL DDL is
transactional, so the schemas created here vanish with the rollback and a
rerun of the suite starts clean. Codes XM/XN/XP/XQ are used only here.
"""

import pytest
from allauth.account.forms import default_token_generator
from django.contrib.auth.models import Group
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context

from accounts.roles import ROLES, SMS_ADMINISTRATOR
from provisioning.protocol import ProtocolInvalid, protocol_parse
from provisioning.services import CREATE, DEACTIVATE, UPDATE, ProvisioningFailed, country_provision
from tenants.models import Country, Domain
from tests.factories import make_user
from tests.provisioning.helpers import protocol_data, protocol_yaml

# Provisioning creates country schemas: it runs as the database owner
# (core.dbroles; tests/database_roles.py).
pytestmark = [pytest.mark.django_db, pytest.mark.database_owner]


def provision(data, **kwargs):
    return country_provision(protocol=protocol_parse(protocol_yaml(data)), **kwargs)


def schema_exists(name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM information_schema.schemata WHERE schema_name = %s", [name])
        return cursor.fetchone() is not None


def snapshot(schema: str) -> dict:
    """Everything provisioning writes in a country, as plain values."""
    from accounts.models import User
    from stock.models import (
        CustomFieldDefinition,
        FieldDefinitionChange,
        ItemCategory,
        ItemType,
        Site,
    )

    country = Country.objects.get(schema_name=schema)
    with schema_context(schema):
        return {
            "country": (
                country.name,
                country.languages,
                country.default_language,
                country.time_zone,
                country.two_factor_policy,
            ),
            "domains": sorted(
                Domain.objects.filter(tenant=country).values_list("domain", flat=True)
            ),
            "groups": sorted(
                (g.name, tuple(sorted(g.permissions.values_list("codename", flat=True))))
                for g in Group.objects.all()
            ),
            "sites": list(
                Site.objects.order_by("code").values_list(
                    "code", "name", "region", "latitude", "longitude", "custodian", "active"
                )
            ),
            "categories": list(
                ItemCategory.objects.order_by("code").values_list(
                    "code", "kind", "labels", "mark_pattern", "enabled", "order"
                )
            ),
            "types": list(
                ItemType.objects.order_by("code").values_list(
                    "code", "category__code", "labels", "counting", "marking", "enabled", "order"
                )
            ),
            "fields": [
                (
                    f.key,
                    f.labels,
                    f.field_type,
                    f.unit,
                    f.required,
                    f.choices,
                    f.order,
                    f.active,
                    sorted(f.applies_to.values_list("code", flat=True)),
                )
                for f in CustomFieldDefinition.objects.order_by("key")
            ],
            "field_changes": FieldDefinitionChange.objects.count(),
            "users": list(
                User.objects.order_by("username").values_list(
                    "username", "email", "full_name", "all_sites", "password", "is_active"
                )
            ),
        }


def test_new_country_gets_everything(django_capture_on_commit_callbacks, mailoutbox, client):
    from accounts.models import User
    from stock.models import CustomFieldDefinition, ItemType, Site

    with django_capture_on_commit_callbacks(execute=True):
        result = provision(protocol_data("XM"))

    assert result.new_country and result.applied
    assert schema_exists("xm")
    country = Country.objects.get(code="XM")
    assert country.schema_name == "xm"
    assert (country.name, country.languages, country.default_language, country.time_zone) == (
        "Emland",
        ["en", "fr"],
        "en",
        "Africa/Lagos",
    )
    assert list(Domain.objects.filter(tenant=country).values_list("domain", "is_primary")) == [
        ("xm.localhost", True)
    ]
    with schema_context("xm"):
        assert set(Group.objects.values_list("name", flat=True)) == {r.name for r in ROLES.values()}
        central = Site.objects.get(code="central")
        assert (central.name, central.region, str(central.latitude), central.custodian) == (
            "Central Store",
            "Capital",
            "6.524400",
            "A. Warden",
        )
        assert Site.objects.get(code="north").latitude is None
        tusk = ItemType.objects.get(code="tusk")
        assert (tusk.category.code, tusk.marking, tusk.labels["fr"]) == (
            "ivory",
            "cites_ivory",
            "Défense entière",
        )
        assert tusk.category.mark_pattern == "{country} {yy}/{serial}/{weight}"
        assert ItemType.objects.get(code="scales").is_lot
        assert tusk.whole and not ItemType.objects.get(code="cut-piece").whole
        assert sorted(ItemType.objects.values_list("code", "cites_class")) == [
            ("cut-piece", "ivory_raw_cut"),
            ("scales", "pangolin_scales"),
            ("tusk", "ivory_raw_whole"),
        ]
        condition = CustomFieldDefinition.objects.get(key="condition")
        assert sorted(condition.applies_to.values_list("code", flat=True)) == ["cut-piece", "tusk"]
        assert condition.choices[1] == {
            "value": "broken",
            "labels": {"en": "Broken", "fr": "Cassée"},
        }
        # No applies_to in the file: every type.
        seal = CustomFieldDefinition.objects.get(key="seal")
        assert seal.applies_to.count() == 3
        assert sorted(seal.changes.values_list("action", "after__applies_to")) == [
            ("created", ["cut-piece", "scales", "tusk"])
        ]
        admin = User.objects.get(username="ada")
        assert admin.email == "ada@emland.example" and admin.full_name == "Ada Admin"
        assert admin.all_sites and not admin.has_usable_password()
        assert list(admin.groups.values_list("name", flat=True)) == [ROLES[SMS_ADMINISTRATOR].name]

    # The administrator's one-time link: printed and e-mailed, on the country host.
    [invitation] = result.invitations
    assert invitation.link.startswith("http://xm.localhost:8000/accounts/password/reset/key/")
    [mail] = mailoutbox
    assert mail.to == ["ada@emland.example"] and invitation.link in mail.body
    path = invitation.link.removeprefix("http://xm.localhost:8000")
    response = client.get(path, HTTP_HOST="xm.localhost")
    assert response.status_code in (200, 302)  # allauth moves the key out of the URL
    token = path.rstrip("/").rsplit("/", 1)[1].split("-", 1)[1]
    with schema_context("xm"):
        admin = User.objects.get(username="ada")
        assert default_token_generator.check_token(admin, token)
        admin.set_password("a new long passphrase 42")
        admin.save()
        # Once the password is set the same link no longer works.
        assert not default_token_generator.check_token(admin, token)


def test_new_country_touches_no_other_country(country_a):
    from accounts.models import User
    from stock.models import Site

    with schema_context(country_a.schema_name):
        before = (Site.objects.count(), User.objects.count())
    provision(protocol_data("XM"))
    with schema_context(country_a.schema_name):
        assert (Site.objects.count(), User.objects.count()) == before
        assert not User.objects.filter(email="ada@emland.example").exists()
    # Nor the public schema, where platform staff live.
    assert not User.objects.filter(email="ada@emland.example").exists()


def test_running_twice_gives_the_same_state():
    first = provision(protocol_data("XN"))
    state = snapshot("xn")
    second = provision(protocol_data("XN"))
    assert not second.new_country
    assert second.changes == [] and second.invitations == []
    assert snapshot("xn") == state
    assert first.count(CREATE) > 10


def test_an_edit_applies_only_the_difference():
    from accounts.models import User
    from stock.models import CustomFieldDefinition, FieldDefinitionChange, ItemType, Site

    provision(protocol_data("XP"))
    after_first_run = timezone.now()
    with schema_context("xp"):
        # A user the country's administrators created meanwhile.
        clerk = make_user(username="clerk", full_name="Clerk Kent")
        ada_password = User.objects.get(username="ada").password

    data = protocol_data("XP")
    data["country"]["name"] = "Peeland"
    data["sites"][0]["name"] = "Central Strongroom"  # renamed
    data["sites"].append({"code": "east", "name": "East Store"})  # new
    del data["sites"][1]  # "north" removed
    data["custom_fields"] = [f for f in data["custom_fields"] if f["key"] != "seal"]
    data["custom_fields"][0]["applies_to"] = ["tusk"]
    data["categories"][0]["types"].pop()  # cut-piece removed
    data["administrators"][0]["full_name"] = "Ada Renamed"  # existing user: untouched
    data["administrators"].append({"full_name": "Bo Admin", "email": "bo@emland.example"})
    result = provision(data)

    changes = {(c.action, c.key) for c in result.changes}
    assert changes == {
        (UPDATE, "XP"),
        (UPDATE, "central"),
        (CREATE, "east"),
        (DEACTIVATE, "north"),
        (DEACTIVATE, "seal"),
        (UPDATE, "condition"),
        (DEACTIVATE, "cut-piece"),
        (CREATE, "bo@emland.example"),
    }
    assert Country.objects.get(code="XP").name == "Peeland"
    with schema_context("xp"):
        assert Site.objects.get(code="central").name == "Central Strongroom"
        assert Site.objects.get(code="east").active
        assert not Site.objects.get(code="north").active  # kept, deactivated
        assert Site.objects.count() == 3
        seal = CustomFieldDefinition.objects.get(key="seal")
        assert not seal.active
        assert seal.labels == {"en": "Seal number", "fr": "Numéro de scellé"}  # definition kept
        condition = CustomFieldDefinition.objects.get(key="condition")
        assert list(condition.applies_to.values_list("code", flat=True)) == ["tusk"]
        assert not ItemType.objects.get(code="cut-piece").enabled
        ada = User.objects.get(username="ada")
        assert (ada.full_name, ada.password) == ("Ada Admin", ada_password)
        clerk.refresh_from_db()
        assert clerk.full_name == "Clerk Kent" and clerk.is_active
        assert (
            User.objects.get(email="bo@emland.example")
            .groups.filter(name=ROLES[SMS_ADMINISTRATOR].name)
            .exists()
        )
        assert User.objects.filter(is_active=True).count() == 3
        # Definition changes are in the field history, by the provisioning account.
        log = {
            (c.definition.key, c.action, c.changed_by.username)
            for c in FieldDefinitionChange.objects.filter(changed_at__gte=after_first_run)
        }
        assert log == {
            ("seal", "deactivated", "_provisioning"),
            ("condition", "updated", "_provisioning"),
        }
        assert not User.objects.get(username="_provisioning").is_active

    # Putting a removed site back reactivates the same row.
    data["sites"].append({"code": "north", "name": "North Store", "region": "North"})
    provision(data)
    with schema_context("xp"):
        assert Site.objects.get(code="north").active
        assert Site.objects.filter(code="north").count() == 1


def test_dry_run_changes_nothing():
    result = provision(protocol_data("XQ"), dry_run=True)
    assert result.new_country and not result.applied
    assert result.count(CREATE) > 10
    assert not Country.objects.filter(code="XQ").exists()
    assert not schema_exists("xq")

    provision(protocol_data("XQ"))
    state = snapshot("xq")
    data = protocol_data("XQ")
    data["sites"][0]["name"] = "Renamed"
    del data["custom_fields"][2]
    data["administrators"].append({"full_name": "Bo", "email": "bo@emland.example"})
    result = provision(data, dry_run=True)
    assert {(c.action, c.key) for c in result.changes} == {
        (UPDATE, "central"),
        (DEACTIVATE, "seal"),
        (CREATE, "bo@emland.example"),
    }
    assert result.invitations == []
    assert snapshot("xq") == state


def test_failure_after_the_schema_exists_rolls_it_back(country_a):
    # A host name already taken (a leftover domain row pointing elsewhere) is
    # only found when the domain is written, after the schema was migrated.
    Domain.objects.create(tenant=country_a, domain="xq.localhost", is_primary=False)
    with pytest.raises(ProvisioningFailed) as caught:
        provision(protocol_data("XQ"))
    assert "xq.localhost" in str(caught.value)
    assert not Country.objects.filter(code="XQ").exists()
    assert not schema_exists("xq")


def test_changing_a_field_type_is_refused_and_nothing_is_applied():
    from stock.models import Site

    provision(protocol_data("XM"))
    data = protocol_data("XM")
    data["sites"][0]["name"] = "Would be renamed"
    data["custom_fields"][1]["type"] = "decimal"
    with pytest.raises(ProtocolInvalid) as caught:
        provision(data)
    assert str(caught.value).startswith(
        'custom_fields[1].type: the field already exists as "integer"'
    )
    with schema_context("xm"):
        assert Site.objects.get(code="central").name == "Central Store"


def test_administrator_username_taken_by_another_user():
    provision(protocol_data("XM"))
    with schema_context("xm"):
        make_user(username="bo", email="someone@else.example")
    data = protocol_data("XM")
    data["administrators"].append(
        {"full_name": "Bo", "email": "bo@emland.example", "username": "bo"}
    )
    with pytest.raises(ProtocolInvalid) as caught:
        provision(data)
    assert str(caught.value) == (
        'administrators[1].username: "bo" is already taken in this country by another user'
    )
