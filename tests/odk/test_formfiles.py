"""The forms without a Central: ``manage.py odk_forms CODE --output DIR``
writes each form as XLSForm and XForm, and administrators download them from
the ODK page (nobody else, and no other country's)."""

import io

import pytest
from django.core.management import call_command
from django_tenants.utils import schema_context
from openpyxl import load_workbook

from odk.xlsforms import REGISTER_FORM_ID, STOCKTAKE_FORM_ID

pytestmark = pytest.mark.django_db


def _sheet_rows(content: bytes, name: str) -> list[dict]:
    sheet = load_workbook(io.BytesIO(content))[name]
    rows = list(sheet.iter_rows(values_only=True))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def test_the_command_writes_each_form_as_xlsform_and_xform(reg, country_a, tmp_path):
    call_command("odk_forms", country_a.code.lower(), "--output", str(tmp_path), "--no-validate")
    names = sorted(p.name for p in tmp_path.iterdir())
    assert [n.split("-")[0] for n in names] == [
        REGISTER_FORM_ID,
        REGISTER_FORM_ID,
        STOCKTAKE_FORM_ID,
        STOCKTAKE_FORM_ID,
    ]
    register_xlsx = next(tmp_path.glob(f"{REGISTER_FORM_ID}-*.xlsx")).read_bytes()
    survey = _sheet_rows(register_xlsx, "survey")
    assert {"site", "item_type", "weight_kg"} <= {row["name"] for row in survey}
    settings_row = _sheet_rows(register_xlsx, "settings")[0]
    assert settings_row["form_id"] == REGISTER_FORM_ID
    xform = next(tmp_path.glob(f"{REGISTER_FORM_ID}-*.xml")).read_text()
    assert f'id="{REGISTER_FORM_ID}"' in xform
    # The XLSForm is the source of the XForm: same version in both names.
    assert settings_row["version"] in xform


def test_the_command_refuses_an_unknown_country(tmp_path):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("odk_forms", "QQ", "--output", str(tmp_path), "--no-validate")


def test_an_administrator_downloads_the_forms_from_the_odk_page(reg, client, host_a):
    client.force_login(reg.admin)
    page = client.get("/odk/", HTTP_HOST=host_a)
    assert "/odk/forms/register.xlsx" in page.text and "/odk/forms/stocktake.xml" in page.text
    xlsx = client.get("/odk/forms/register.xlsx", HTTP_HOST=host_a)
    assert xlsx.status_code == 200
    assert "attachment" in xlsx["Content-Disposition"]
    assert _sheet_rows(xlsx.content, "settings")[0]["form_id"] == REGISTER_FORM_ID
    xml = client.get("/odk/forms/stocktake.xml", HTTP_HOST=host_a)
    assert xml.status_code == 200 and f'id="{STOCKTAKE_FORM_ID}"' in xml.text
    assert client.get("/odk/forms/other.xml", HTTP_HOST=host_a).status_code == 404
    assert client.get("/odk/forms/register.pdf", HTTP_HOST=host_a).status_code == 404


def test_country_b_gets_its_own_forms_and_its_session_means_nothing_on_a(
    reg, country_b, client, host_a
):
    from accounts.roles import SMS_ADMINISTRATOR
    from tests.factories import ItemCategoryFactory, ItemTypeFactory, SiteFactory, make_user

    with schema_context(country_b.schema_name):
        # Before any item type the form can't be built: said, not a crash.
        admin_b = make_user(role=SMS_ADMINISTRATOR, all_sites=True)
        client.force_login(admin_b)
        empty = client.get("/odk/forms/register.xml", HTTP_HOST=country_b.host)
        assert empty.status_code == 302 and empty["Location"].endswith("/odk/")
        SiteFactory(code="site-only-in-b", name="Store only in B")
        ItemTypeFactory(code="horn-b", category=ItemCategoryFactory(code="ivory-b"))
    on_b = client.get("/odk/forms/register.xml", HTTP_HOST=country_b.host)
    assert on_b.status_code == 200 and "site-only-in-b" in on_b.text
    assert "site-x" not in on_b.text  # country A's store
    on_a = client.get("/odk/forms/register.xml", HTTP_HOST=host_a)
    assert on_a.status_code == 302 and "/accounts/login/" in on_a["Location"]
