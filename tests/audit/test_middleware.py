"""The access log written by audit.middleware from the views' declarations:
every view that shows stock, people or documents, hit once by someone allowed
to, leaves exactly one row with its action, object, user, address and
browser; a refusal, a redirect or an anonymous request leaves none."""

import datetime

import pytest
from django.conf import settings
from django.test import Client
from django_tenants.utils import schema_context

from accounts.roles import SMS_ADMINISTRATOR
from audit.checks import routed_views
from audit.models import AccessEvent
from audit.selectors import access_event_list
from core.access import AccessAction, declaration_of_callback
from custody import services as custody_services
from custody.models import Discrepancy
from imports import services as import_services
from odk.models import AppUser, Submission
from reporting import services as reporting_services
from stock import services as stock_services
from tests.custody.conftest import check, dispatch, draft
from tests.factories import DEFAULT_PASSWORD, make_user
from tests.imports.conftest import named
from tests.odk.conftest import register_values
from tests.odk.fake_central import PASSWORD, USERNAME, FakeCentral
from tests.stock.conftest import image_bytes, make_register, register, upload

pytestmark = pytest.mark.django_db
A = AccessAction
UA = "TabletBrowser/2.0"
ADDRESS = "192.0.2.44"


@pytest.fixture(autouse=True)
def _settings(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.SMS_ODK_HTTP_RETRIES = 0
    settings.SMS_ODK_HTTP_TIMEOUT = 2
    settings.SMS_FIELD_ENCRYPTION_KEY = "test-encryption-key"


@pytest.fixture
def fake():
    central = FakeCentral().start()
    yield central
    central.stop()


@pytest.fixture
def world(in_country_a, fake):
    """Country A with something behind every page: an item with a photo, a
    transfer received with an item absent (a discrepancy), a stock-take, a
    generated report, ODK connected with a submission waiting for review."""
    from odk import services as odk_services
    from odk.sync import sync_country
    from odk.xlsforms import REGISTER_FORM_ID

    reg = make_register()
    reg.item = register(reg, photos=[upload(image_bytes())])
    reg.photo = reg.item.photos.get()
    a, b = register(reg), register(reg)
    reg.transfer = draft(reg, [a, b])
    dispatch(reg, reg.transfer)
    custody_services.transfer_receive(
        actor=reg.manager_y, transfer=reg.transfer, checks=[check(a), check(b, present=False)]
    )
    reg.discrepancy = Discrepancy.objects.get(transfer=reg.transfer)
    reg.stocktake = custody_services.stocktake_open(actor=reg.manager_x, site=reg.site_x)
    run = reporting_services.report_request(
        actor=reg.admin,
        kind="yearly",
        fmt="csv",
        title="Years",
        params={"first_year": 2025, "last_year": 2026},
    )
    reg.run = reporting_services.report_generate(run_id=run.pk)
    assert reg.run.is_ready, reg.run.error
    # A register import checked by a dry run (its pages and its checked file).
    template = import_services.template_build(actor=reg.admin, record=False)
    imported = import_services.run_upload(actor=reg.admin, upload=named(template, "old.xlsx"))
    import_services.run_request(
        actor=reg.admin, run=imported, dry_run=True, valid_only=False, queue=False
    )
    reg.import_run = import_services.run_process(run_id=imported.pk, dry_run=True)

    odk_services.connection_save(
        actor=reg.admin,
        base_url=fake.url,
        username=USERNAME,
        password=PASSWORD,
        current_password=DEFAULT_PASSWORD,
    )
    odk_services.project_create(actor=reg.admin)
    odk_services.forms_publish(actor=reg.admin)
    odk_services.app_users_sync(actor=reg.admin)
    reg.app_user = AppUser.objects.get(user=reg.manager_x)
    fake.submit(
        REGISTER_FORM_ID, register_values(weight_kg=0), submitter_id=reg.app_user.central_id
    )
    sync_country()
    reg.submission = Submission.objects.get(status=Submission.Status.NEEDS_REVIEW)
    return reg


def pages(w):
    """{URL name: (who opens it, path, action, object it must name or None)}:
    every view of the country URL conf that declares logs_access."""
    item, transfer = w.item, w.transfer
    return {
        "home": (w.admin, "/", A.DASHBOARD_VIEW, None),
        "stock:item_list": (w.admin, "/items/?q=KE", A.ITEM_LIST, None),
        "stock:item_export_csv": (w.admin, "/items/export.csv?q=KE", A.EXPORT, None),
        "stock:item_export_xlsx": (w.admin, "/items/export.xlsx", A.EXPORT, None),
        "stock:item_detail": (w.admin, f"/items/{item.pk}/", A.ITEM_VIEW, item),
        "stock:item_correct": (w.manager_x, f"/items/{item.pk}/correct/", A.ITEM_VIEW, item),
        "stock:item_archive": (w.manager_x, f"/items/{item.pk}/archive/", A.ITEM_VIEW, item),
        "stock:photo_original": (w.admin, f"/photos/{w.photo.pk}/", A.PHOTO_VIEW, w.photo),
        "stock:item_label": (w.admin, f"/items/{item.pk}/label.pdf", A.DOCUMENT_VIEW, item),
        "stock:item_labels": (w.admin, "/items/labels.pdf?which=list", A.DOCUMENT_VIEW, None),
        "stock:archive_list": (w.admin, "/archive/", A.ARCHIVE_LIST, None),
        "imports:home": (w.admin, "/import/", A.IMPORT_VIEW, None),
        "imports:template": (w.admin, "/import/template.xlsx", A.IMPORT_TEMPLATE, None),
        "imports:export": (w.admin, "/import/register.xlsx", A.REGISTER_EXPORT, None),
        "imports:run_detail": (
            w.admin,
            f"/import/{w.import_run.pk}/",
            A.IMPORT_VIEW,
            w.import_run,
        ),
        "imports:mapping": (
            w.admin,
            f"/import/{w.import_run.pk}/columns/",
            A.IMPORT_VIEW,
            w.import_run,
        ),
        "imports:checked": (
            w.admin,
            f"/import/{w.import_run.pk}/checked.xlsx",
            A.IMPORT_VIEW,
            w.import_run,
        ),
        "stock:marks_to_do": (w.admin, "/marks-to-do/", A.ITEM_LIST, None),
        "custody:transfer_list": (w.admin, "/transfers/", A.TRANSFER_LIST, None),
        "custody:transfer_new": (w.manager_x, "/transfers/new/", A.ITEM_LIST, None),
        "custody:transfer_detail": (
            w.admin,
            f"/transfers/{transfer.pk}/",
            A.TRANSFER_VIEW,
            transfer,
        ),
        "custody:transfer_pdf": (
            w.admin,
            f"/transfers/{transfer.pk}/manifest.pdf",
            A.DOCUMENT_VIEW,
            transfer,
        ),
        "custody:discrepancy_list": (w.admin, "/discrepancies/", A.DISCREPANCY_LIST, None),
        "custody:discrepancy_resolve": (
            w.admin,
            f"/discrepancies/{w.discrepancy.pk}/",
            A.DISCREPANCY_VIEW,
            w.discrepancy,
        ),
        "custody:stocktake_list": (w.admin, "/stock-takes/", A.STOCKTAKE_LIST, None),
        "custody:stocktake_detail": (
            w.admin,
            f"/stock-takes/{w.stocktake.pk}/",
            A.STOCKTAKE_VIEW,
            w.stocktake,
        ),
        "custody:stocktake_sheet": (
            w.admin,
            f"/stock-takes/{w.stocktake.pk}/sheet.pdf",
            A.DOCUMENT_VIEW,
            w.stocktake,
        ),
        "custody:stocktake_labels": (
            w.admin,
            f"/stock-takes/{w.stocktake.pk}/labels.pdf",
            A.DOCUMENT_VIEW,
            w.stocktake,
        ),
        "custody:stocktake_line": (
            w.admin,
            f"/stock-takes/{w.stocktake.pk}/items/{item.pk}/",
            A.STOCKTAKE_VIEW,
            w.stocktake,
        ),
        # A POST (see POSTED): a scanned number, answered with what it found.
        "custody:stocktake_scan": (
            w.manager_x,
            f"/stock-takes/{w.stocktake.pk}/scan/",
            A.STOCKTAKE_VIEW,
            w.stocktake,
        ),
        "custody:ledger_check": (w.admin, "/ledger/", A.LEDGER_VIEW, None),
        "administration:user_list": (w.admin, "/administration/users/", A.USER_LIST, None),
        "administration:user_detail": (
            w.admin,
            f"/administration/users/{w.manager_x.pk}/",
            A.USER_VIEW,
            w.manager_x,
        ),
        "administration:support_list": (
            w.admin,
            "/administration/support/",
            A.SUPPORT_LIST,
            None,
        ),
        "administration:activity": (
            w.admin,
            "/administration/activity/",
            A.ACTIVITY_VIEW,
            None,
        ),
        "administration:activity_csv": (
            w.admin,
            "/administration/activity/export.csv",
            A.ACTIVITY_EXPORT,
            None,
        ),
        "administration:changes": (w.admin, "/administration/changes/", A.CHANGES_VIEW, None),
        "administration:corrections": (
            w.admin,
            "/administration/corrections/",
            A.CORRECTIONS_VIEW,
            None,
        ),
        "odk:overview": (w.admin, "/odk/", A.ODK_VIEW, None),
        "odk:review_list": (w.admin, "/odk/review/", A.SUBMISSION_LIST, None),
        "odk:review_detail": (
            w.admin,
            f"/odk/review/{w.submission.pk}/",
            A.SUBMISSION_VIEW,
            w.submission,
        ),
        "odk:app_user_qr": (
            w.admin,
            f"/odk/app-users/{w.app_user.pk}/qr/",
            A.QR_VIEW,
            w.app_user,
        ),
        "reporting:home": (w.admin, "/reports/", A.REPORT_VIEW, None),
        "reporting:private_holdings": (
            w.admin,
            "/reports/cites/private-stocks/",
            A.REPORT_VIEW,
            None,
        ),
        "reporting:report": (
            w.admin,
            "/reports/summary/?start=2025-01-01&end=2025-12-31",
            A.REPORT_VIEW,
            None,
        ),
        "reporting:run_download": (
            w.admin,
            f"/reports/generated/{w.run.pk}/download/",
            A.EXPORT,
            w.run,
        ),
    }


def posted(w) -> dict:
    """The logging views that answer a POST only: what is posted to them."""
    return {"custody:stocktake_scan": {"number": w.item.sms_number}}


def logging_views(urlconf) -> set[str]:
    return {
        name
        for _route, name, callback in routed_views(urlconf)
        if declaration_of_callback(callback).action is not None
    }


def client_of(user, host):
    client = Client(HTTP_USER_AGENT=UA, REMOTE_ADDR=ADDRESS, HTTP_HOST=host)
    client.force_login(user)
    return client


def test_every_view_that_shows_stock_people_or_documents_writes_one_row(world, host_a):
    table = pages(world)
    # A new logging view must be added here, so that it is hit too.
    assert logging_views(settings.ROOT_URLCONF) == set(table)
    assert logging_views(settings.PUBLIC_SCHEMA_URLCONF) == set()
    for name, (user, path, action, obj) in table.items():
        last = AccessEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
        client = client_of(user, host_a)
        if name in posted(world):
            response = client.post(path, posted(world)[name], HTTP_ACCEPT="application/json")
        else:
            response = client.get(path)
        assert response.status_code == 200, (name, response.status_code)
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)
        rows = list(AccessEvent.objects.filter(id__gt=last).exclude(action=A.LOGIN))
        assert len(rows) == 1, (name, [r.action for r in rows])
        [row] = rows
        assert (row.action, row.user, row.ip_address, row.user_agent) == (
            action,
            user,
            ADDRESS,
            UA,
        ), name
        if obj is not None:
            assert (row.object_type, row.object_id) == (obj._meta.label_lower, str(obj.pk)), name


def test_what_each_row_says_beyond_the_action(world, host_a):
    admin = client_of(world.admin, host_a)
    admin.get(f"/transfers/{world.transfer.pk}/receipt.pdf")
    document = AccessEvent.objects.get(action=A.DOCUMENT_VIEW)
    assert document.details == {"document": "receipt"}
    assert (document.object_repr, document.site_id) == (
        world.transfer.reference,
        world.site_x.pk,
    )
    # A list that says nothing itself keeps its query string as its filters.
    admin.get("/transfers/", {"status": "dispatched", "empty": ""})
    assert AccessEvent.objects.get(action=A.TRANSFER_LIST).details == {"status": "dispatched"}
    # The QR code: the enum's action (no longer "odk.qr_view"), the app user.
    admin.get(f"/odk/app-users/{world.app_user.pk}/qr/")
    qr = AccessEvent.objects.get(action=A.QR_VIEW)
    assert qr.details == {"app_user": world.app_user.pk}
    assert qr.object_repr == world.app_user.display_name
    # The discrepancy is found by its item's SMS number, at the item's site.
    admin.get(f"/discrepancies/{world.discrepancy.pk}/")
    seen = AccessEvent.objects.get(action=A.DISCREPANCY_VIEW)
    assert seen.object_repr == world.discrepancy.item.sms_number
    number = world.discrepancy.item.sms_number
    assert seen in access_event_list(user=world.admin, filters={"item": number})
    # A report page keeps its settings; the reports home says which page.
    admin.get("/reports/")
    assert AccessEvent.objects.get(action=A.REPORT_VIEW).details == {"report": "home"}


def test_refusals_redirects_and_anonymous_requests_write_nothing(world, host_a):
    # The world's own making is logged (the import's dry run): count from here.
    last = AccessEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    stranger = make_user(role=SMS_ADMINISTRATOR, sites=[world.site_y])
    scoped = client_of(stranger, host_a)
    assert scoped.get(f"/stock-takes/{world.stocktake.pk}/").status_code == 404
    assert scoped.get(f"/items/{world.item.pk}/").status_code == 404
    manager_y = client_of(world.manager_y, host_a)
    assert manager_y.get("/administration/users/").status_code == 403
    assert manager_y.get(f"/odk/app-users/{world.app_user.pk}/qr/").status_code == 404
    anonymous = Client(HTTP_HOST=host_a)
    assert anonymous.get(f"/transfers/{world.transfer.pk}/").status_code == 302
    # An archived item's archive page sends back to the item page: a redirect shows nothing.
    gone = register(world)
    stock_services.item_archive(
        actor=world.manager_x,
        item=gone,
        reason="destroyed",
        archived_on=datetime.date.today(),
        authority_reference="MIN/1",
        destruction_method="burnt",
        witnesses="A, B",
    )
    assert client_of(world.manager_x, host_a).get(f"/items/{gone.pk}/archive/").status_code == 302
    assert AccessEvent.objects.filter(id__gt=last).exclude(action=A.LOGIN).count() == 0


def test_the_dashboard_without_figures_leaves_no_row(world, host_a):
    nobody = make_user()  # no role: the dashboard shows no figures
    assert client_of(nobody, host_a).get("/").status_code == 200
    assert not AccessEvent.objects.filter(action=A.DASHBOARD_VIEW).exists()
    client_of(world.manager_x, host_a).get("/")
    assert AccessEvent.objects.get(action=A.DASHBOARD_VIEW).user == world.manager_x


def test_the_row_has_the_address_our_proxy_saw(world, host_a, settings):
    settings.SMS_TRUSTED_PROXY_COUNT = 1  # nginx in front (deploy/nginx.conf)
    client = client_of(world.admin, host_a)
    client.get(
        f"/transfers/{world.transfer.pk}/",
        REMOTE_ADDR="127.0.0.1",
        HTTP_X_FORWARDED_FOR="203.0.113.250, 198.51.100.9",
    )
    assert AccessEvent.objects.get(action=A.TRANSFER_VIEW).ip_address == "198.51.100.9"
    from odk.models import QrView

    client.get(
        f"/odk/app-users/{world.app_user.pk}/qr/",
        REMOTE_ADDR="127.0.0.1",
        HTTP_X_FORWARDED_FOR="198.51.100.10",
    )
    assert QrView.objects.get().ip_address == "198.51.100.10"
    assert AccessEvent.objects.get(action=A.QR_VIEW).ip_address == "198.51.100.10"


def test_each_country_keeps_its_own_rows(world, host_a):
    client_of(world.admin, host_a).get(f"/items/{world.item.pk}/")
    with schema_context("xb"):
        assert not AccessEvent.objects.filter(action=A.ITEM_VIEW).exists()
