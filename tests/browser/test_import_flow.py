"""An SMS administrator of XA, in a real Chromium: uploads an old register,
maps a column and a store name, reads the dry run's report, imports the
valid rows only, and imports the same file again (nothing new).

Committed setup (transactional test), removed at the end as in
test_register_flow.py. The administrator's session is made by the test
client (a finished sign-in, second step included) and handed to the browser
as its cookie: signing in with 2FA is tested elsewhere.
"""

import io
import uuid
from dataclasses import dataclass

import pgtrigger
import pytest
from django_tenants.utils import schema_context
from openpyxl import Workbook
from playwright.sync_api import expect

from accounts.roles import SMS_ADMINISTRATOR
from tests.browser.test_register_flow import _user_remove
from tests.database_roles import database_owner
from tests.factories import make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@dataclass
class Setup:
    url: str
    site: object
    admin: object
    suffix: str


@pytest.fixture
def setup(live_server, country_a, settings, tmp_path):
    from django.contrib.sessions.models import Session

    from imports.models import ColumnMapping, ImportedRow, ImportRun, StoreMapping
    from stock.models import (
        ItemCategory,
        ItemNumberSerial,
        ItemType,
        MarkSerial,
        StockItem,
        StockTotal,
    )
    from tests.factories import SiteFactory

    settings.MEDIA_ROOT = tmp_path / "media"
    suffix = uuid.uuid4().hex[:6]
    with schema_context(country_a.schema_name):
        counters = {
            model: dict(model.objects.values_list("pk", "last_serial"))
            for model in (ItemNumberSerial, MarkSerial)
        }
        sessions_before = set(Session.objects.values_list("session_key", flat=True))
        runs_before = set(ImportRun.objects.values_list("pk", flat=True))
        site = SiteFactory(code=f"import-{suffix}", name=f"Central strongroom {suffix}")
        category = ItemCategory.objects.create(
            code=f"ivory-{suffix}",
            kind="ivory",
            labels={"en": "Ivory"},
            mark_pattern="{country} {yy}/{serial}/{weight}",
        )
        item_type = ItemType.objects.create(
            category=category,
            code=f"tusk-{suffix}",
            labels={"en": f"Tusk {suffix}"},
            marking="cites_ivory",
            whole=True,
        )
        admin = make_user(role=SMS_ADMINISTRATOR, sites=[site], username=f"admin-{suffix}")
    url = f"http://{country_a.host}:{live_server.url.rsplit(':', 1)[1]}"
    yield Setup(url=url, site=site, admin=admin, suffix=suffix)
    with (
        database_owner(),
        schema_context(country_a.schema_name),
        pgtrigger.ignore(
            "stock.StockItem:stockitem_no_delete",
            "imports.ImportRun:importrun_no_delete",
            "imports.ImportedRow:importedrow_no_delete",
        ),
    ):
        ImportedRow.objects.exclude(run__pk__in=runs_before).delete()
        ImportRun.objects.exclude(pk__in=runs_before).delete()
        ColumnMapping.objects.filter(updated_by=admin).delete()
        StoreMapping.objects.filter(updated_by=admin).delete()
        StockTotal.objects.filter(site=site).delete()
        StockItem.objects.filter(site=site).delete()
        for model, before in counters.items():
            model.objects.exclude(pk__in=before).delete()
            for pk, last_serial in before.items():
                model.objects.filter(pk=pk).update(last_serial=last_serial)
        Session.objects.exclude(session_key__in=sessions_before).delete()
        _user_remove(admin)
        item_type.delete()
        category.delete()
        site.delete()


def old_register(path, suffix):
    book = Workbook()
    sheet = book.active
    sheet.title = "Inventaire 2015"
    sheet.append(["N° de défense", "Magasin", "Type d'article", "Poids (kg)", "Date de réception"])
    sheet.append(["XA 15/801/12", "Old armoury", f"tusk-{suffix}", "12,2", "2015-03-01"])
    sheet.append(["XA 15/802/9", "Old armoury", f"tusk-{suffix}", "9", "14/05/2015"])
    sheet.append(["XA 15/803/7", "Old armoury", "mammoth", "7", "2015-06-01"])
    out = io.BytesIO()
    book.save(out)
    path.write_bytes(out.getvalue())
    return path


def test_administrator_uploads_checks_and_imports_an_old_register(page, setup, tmp_path):
    from django.conf import settings
    from django.test import Client

    client = Client()
    with schema_context("xa"):
        client.force_login(setup.admin)
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": setup.url,
            }
        ]
    )
    sheet = old_register(tmp_path / "inventaire-2015.xlsx", setup.suffix)

    page.goto(setup.url + "/")
    page.get_by_role("link", name="Import a register").first.click()
    expect(page.get_by_role("heading", name="Import a register")).to_be_visible()
    page.locator("input[type=file][name=file]").set_input_files(sheet)
    page.get_by_role("button", name="Upload and match the columns").click()

    # The mapping step: the mark column and the store name are SMS's to learn.
    expect(page.get_by_role("heading", name="Match the columns")).to_be_visible()
    page.get_by_label("N° de défense").select_option("cites_mark")
    page.get_by_label("Old armoury").select_option(str(setup.site.pk))
    page.get_by_role("button", name="Check every row (dry run)").click()

    # The dry run's report: two rows would be created, one refused at its cell.
    expect(page.get_by_text("Result of the check (nothing was saved)")).to_be_visible()
    expect(page.locator("[data-count=created]")).to_have_text("2")
    expect(page.locator("[data-count=refused]")).to_have_text("1")
    report = page.locator("[data-report]")
    expect(report).to_contain_text("“mammoth” is not an item type of this country.")
    expect(report).to_contain_text("Type d'article")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the file with the errors beside the cells").click()
    assert download.value.suggested_filename == "checked-inventaire-2015.xlsx"

    page.get_by_role("button", name="Import the 2 valid rows only").click()
    expect(page.locator("[data-status]")).to_have_text("Imported")
    expect(page.locator("[data-count=created]")).to_have_text("2")

    from stock.models import StockItem

    with schema_context("xa"):
        marks = set(StockItem.objects.filter(site=setup.site).values_list("cites_mark", flat=True))
    assert marks == {"XA 15/801/12", "XA 15/802/9"}

    # The same file again: the saved mapping applies, nothing new is created.
    page.get_by_role("link", name="Back to the imports").click()
    page.locator("input[type=file][name=file]").set_input_files(sheet)
    page.get_by_role("button", name="Upload and match the columns").click()
    expect(page.get_by_label("N° de défense")).to_have_value("cites_mark")
    page.get_by_role("button", name="Check every row (dry run)").click()
    expect(page.locator("[data-count=known]")).to_have_text("2")
    expect(page.locator("[data-count=created]")).to_have_text("0")
    expect(page.get_by_role("button", name="Check again")).to_be_visible()
    expect(page.get_by_role("button", name="Import", exact=False)).to_have_count(0)
    with schema_context("xa"):
        assert StockItem.objects.filter(site=setup.site).count() == 2
