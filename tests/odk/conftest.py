"""ODK fixtures: a fake Central over real HTTP, and country A connected to it
with the stock register of tests.stock (sites X and Y, ivory and pangolin)."""

import pytest

from tests.factories import DEFAULT_PASSWORD
from tests.stock.conftest import image_bytes, make_register

from .fake_central import PASSWORD, USERNAME, FakeCentral


@pytest.fixture(autouse=True)
def _odk_settings(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    # A fault must show at once, not after pyodk's back-off (2 s, 4 s, 8 s).
    settings.SMS_ODK_HTTP_RETRIES = 0
    settings.SMS_ODK_HTTP_TIMEOUT = 2
    settings.SMS_FIELD_ENCRYPTION_KEY = "test-encryption-key"


@pytest.fixture
def fake():
    central = FakeCentral().start()
    yield central
    central.stop()


@pytest.fixture
def reg(in_country_a):
    return make_register()


@pytest.fixture
def connected(reg, fake):
    """Country A with its Central project, published forms and app users."""
    from odk import services

    services.connection_save(
        actor=reg.admin,
        base_url=fake.url,
        username=USERNAME,
        password=PASSWORD,
        current_password=DEFAULT_PASSWORD,
    )
    services.project_create(actor=reg.admin)
    services.forms_publish(actor=reg.admin)
    app_users = {a.user_id: a for a in services.app_users_sync(actor=reg.admin)}
    reg.app_x = app_users[reg.manager_x.pk]
    reg.app_y = app_users[reg.manager_y.pk]
    return reg


def register_values(**overrides) -> dict:
    """What Central lists for a whole tusk at site X, one photo: the answers
    nested in the form's sections ({"what": {"item_type": …}, …})."""
    return nested(flat_register_values(**overrides))


def nested(values: dict) -> dict:
    """``values`` (by question name) nested as the register form's sections nest them."""
    from odk import xlsforms

    groups = xlsforms.question_groups(
        xlsforms.register_workbook(languages=["en"], default_language="en")
    )
    out: dict = {}
    for name, value in values.items():
        target = out
        for group in groups.get(name, ()):
            target = target.setdefault(group, {})
        target[name] = value
    return out


def flat_register_values(**overrides) -> dict:
    """The register answers by question name (as SMS stores them)."""
    values = {
        "site": "site-x",
        "category": "ivory",
        "item_type": "whole-tusk",
        "weight_kg": 12.5,
        "weight_is_final": "yes",
        "side": "L",
        "length_outer_cm": 120.5,
        "source": "seizure",
        "received_on": "2024-03-01",
        "mark_entry": "none",
        "photo_1": "1700000000001.jpg",
    }
    values.update(overrides)
    return values


def photo(color=(200, 180, 150)) -> bytes:
    return image_bytes(color=color)
