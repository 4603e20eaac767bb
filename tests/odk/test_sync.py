"""The sync against a fake Central over HTTP: first and incremental runs,
edits, late attachments, every fault, and the review queue."""

import hashlib

import pytest
import requests

from odk import services
from odk.models import ItemEntity, StockCheck, Submission, SubmissionAttachment, SyncState
from odk.sync import sync_country
from odk.xlsforms import REGISTER_FORM_ID, STOCKTAKE_FORM_ID
from stock.models import ItemChange, ItemPhoto, StockItem
from tests.factories import DEFAULT_PASSWORD

from .conftest import photo, register_values


def _submit(fake, reg, *, app=None, missing=(), **values):
    app = app or reg.app_x
    content = photo()
    return fake.submit(
        REGISTER_FORM_ID,
        register_values(**values),
        submitter_id=app.central_id,
        attachments={"1700000000001.jpg": content},
        missing=missing,
    )


def test_first_sync_registers_each_submission_once_with_its_photo(connected, fake):
    sub = _submit(fake, connected)
    report = sync_country()
    assert report.error == "" and report.processed == 1
    stored = Submission.objects.get(central_id=sub.id)
    assert stored.status == Submission.Status.PROCESSED
    item = stored.item
    assert item.site == connected.site_x and item.item_type == connected.tusk
    assert str(item.weight_kg) == "12.500" and item.created_by == connected.manager_x
    [item_photo] = ItemPhoto.objects.filter(item=item)
    assert item_photo.sha256 == hashlib.sha256(photo()).hexdigest()
    assert stored.attachments.get().sha256 == item_photo.sha256
    # The review state went back to Central; the item joined the entity list.
    assert fake.submissions[sub.id].review_state == "approved"
    link = ItemEntity.objects.get(item=item)
    assert link.entity_uuid.version == 4
    entity = fake.entities[(1, "items")][str(link.entity_uuid)]
    assert entity["data"]["site"] == "site-x" and entity["data"]["sms_number"] == item.sms_number


def test_incremental_sync_asks_only_for_what_changed_and_never_duplicates(connected, fake):
    _submit(fake, connected)
    sync_country()
    watermark = SyncState.objects.get(xml_form_id=REGISTER_FORM_ID).watermark
    assert watermark is not None
    second = _submit(fake, connected, weight_kg=3.2)
    fake.requests.clear()
    report = sync_country()
    odata = [p for m, p in fake.requests if p.endswith(".svc/Submissions")]
    assert odata and report.processed == 1
    assert StockItem.objects.count() == 2
    assert str(Submission.objects.get(central_id=second.id).item.weight_kg) == "3.200"
    # Same pages again (watermark forgotten): still two items.
    SyncState.objects.update(watermark=None)
    again = sync_country()
    assert again.processed == 0 and again.unchanged >= 2
    assert StockItem.objects.count() == 2


def test_paging_follows_next_link_on_centrals_own_host_rebased_on_ours(connected, fake):
    for n in range(7):
        _submit(fake, connected, weight_kg=1 + n)
    report = sync_country(page_size=3)
    # Three pages of the register form, one (empty) of the stock-take form.
    assert report.pages == 3 + 1 and report.processed == 7
    assert StockItem.objects.count() == 7


def test_an_edit_corrects_the_item_it_registered(connected, fake):
    sub = _submit(fake, connected)
    sync_country()
    item = Submission.objects.get(central_id=sub.id).item
    assert fake.submissions[sub.id].review_state == "approved"
    fake.edit(sub, {"weight_kg": 11.75}, editor_id=7, editor_name="Awa Diallo")
    assert fake.submissions[sub.id].review_state == "edited"
    report = sync_country()
    assert report.processed == 1
    assert StockItem.objects.count() == 1
    item.refresh_from_db()
    assert str(item.weight_kg) == "11.750"
    change = ItemChange.objects.get(item=item, field="weight_kg")
    # Credited to the Central web user who edited it, not to "Collect" nor the
    # app user; recorded under the store manager whose app user sent it.
    assert change.reason == "Edited in ODK Central by Awa Diallo (Central account 7)"
    assert change.old_value == "12.500" and change.changed_by == connected.manager_x
    stored = Submission.objects.get(central_id=sub.id)
    assert stored.processed_instance_id == sub.instance_id != sub.id
    assert stored.edited_by == {"id": 7, "name": "Awa Diallo"}
    # The edit's review state reached Central (it showed "edited" until then).
    assert fake.submissions[sub.id].review_state == "approved"
    assert report.reviews_pushed == 1


def test_an_edit_that_the_register_refuses_is_flagged_in_central(connected, fake):
    sub = _submit(fake, connected)
    sync_country()
    fake.edit(sub, {"weight_kg": -3}, editor_name="Awa Diallo")
    report = sync_country()
    assert report.needs_review == 1
    assert fake.submissions[sub.id].review_state == "hasIssues"
    # Edited again with a valid weight: applied, and Central is told again.
    fake.edit(sub, {"weight_kg": 11}, editor_name="Awa Diallo")
    sync_country()
    assert fake.submissions[sub.id].review_state == "approved"


def test_an_edit_waits_for_approval_where_the_country_asks(connected, fake, country_a):
    """An edit in Central is a correction in the store manager's name, like the web form's:
    in a country that wants corrections approved it waits for an administrator."""
    from audit.models import AccessEvent
    from stock import services as stock_services
    from stock.models import PendingCorrection
    from tenants.models import Country

    Country.objects.filter(pk=country_a.pk).update(corrections_need_approval=True)
    sub = _submit(fake, connected)
    sync_country()
    item = Submission.objects.get(central_id=sub.id).item
    fake.edit(sub, {"weight_kg": 11.75}, editor_id=9, editor_name="Jean Ka")
    report = sync_country()
    assert report.processed == 1 and report.needs_review == 0
    item.refresh_from_db()
    assert str(item.weight_kg) == "12.500"
    assert not ItemChange.objects.filter(item=item).exists()
    pending = PendingCorrection.objects.get(item=item)
    assert pending.changes == {"weight_kg": "11.750"}
    reason = "Edited in ODK Central by Jean Ka (Central account 9)"
    assert (pending.requested_by, pending.reason) == (connected.manager_x, reason)
    assert AccessEvent.objects.filter(
        action=AccessEvent.Action.CORRECTION_REQUESTED, user=connected.manager_x
    ).exists()
    # Approved: applied in the store manager's name.
    stock_services.correction_approve(actor=connected.admin, pending=pending)
    item.refresh_from_db()
    assert str(item.weight_kg) == "11.750"
    change = ItemChange.objects.get(item=item, field="weight_kg")
    assert (change.changed_by, change.reason) == (connected.manager_x, reason)


def test_a_late_photo_is_fetched_on_a_later_run_although_updated_at_did_not_change(connected, fake):
    sub = _submit(fake, connected, missing=("1700000000001.jpg",))
    sync_country()
    stored = Submission.objects.get(central_id=sub.id)
    assert stored.attachments_missing and stored.item.photos.count() == 0
    # A photo is required by the register? No: the item is registered now and
    # the photo joins it when it arrives.
    fake.upload_late(sub, "1700000000001.jpg", photo())
    report = sync_country()
    assert report.attachments == 1
    stored.refresh_from_db()
    assert not stored.attachments_missing
    assert stored.item.photos.get().sha256 == hashlib.sha256(photo()).hexdigest()
    assert StockItem.objects.count() == 1


def test_central_down_then_back_loses_nothing(connected, fake):
    from odk.models import CentralConnection

    _submit(fake, connected)
    real = CentralConnection.objects.get().base_url
    CentralConnection.objects.update(base_url="http://127.0.0.1:9")  # nothing listens
    report = sync_country()
    assert report.error and Submission.objects.count() == 0
    assert CentralConnection.objects.get().last_sync_error
    CentralConnection.objects.update(base_url=real)
    assert sync_country().processed == 1
    assert CentralConnection.objects.get().last_sync_error == ""


def test_a_timeout_stops_the_run_and_the_next_run_finishes(connected, fake):
    _submit(fake, connected)
    fake.fail("GET", r"\.svc/Submissions$", delay=3)  # the client waits 2 s
    report = sync_country()
    assert "timed out" in report.error.lower() or "timeout" in report.error.lower()
    assert sync_country().processed == 1
    assert StockItem.objects.count() == 1


def test_a_500_in_the_middle_of_paging_keeps_the_watermark_and_the_next_run_finishes(
    connected, fake
):
    subs = [_submit(fake, connected, weight_kg=1 + n) for n in range(5)]
    sync_country()  # a first pass sets a watermark
    watermark = SyncState.objects.get(xml_form_id=REGISTER_FORM_ID).watermark
    for sub in subs:
        fake.edit(sub, {"weight_kg": 20})
    # Fail the second page only: the first page is stored, the watermark is not moved.
    calls = {"n": 0}
    original = fake._odata

    def second_page_fails(pid, fid, query, start_response):
        if "$skiptoken" in query:
            calls["n"] += 1
            if calls["n"] == 1:
                return fake._json(start_response, {"message": "boom"}, status=500)
        return original(pid, fid, query, start_response)

    fake._odata = second_page_fails
    report = sync_country(page_size=2)
    assert report.error and "500" in report.error
    assert SyncState.objects.get(xml_form_id=REGISTER_FORM_ID).watermark == watermark
    assert report.processed == 2  # the first page
    report = sync_country(page_size=2)
    assert report.error == "" and report.processed == 3
    assert StockItem.objects.count() == 5
    assert {str(i.weight_kg) for i in StockItem.objects.all()} == {"20.000"}


class WorkerKilled(BaseException):
    """Stands for the worker dying: not an Exception, nothing catches it."""


def test_a_worker_killed_between_pages_leaves_work_the_next_run_finishes(
    connected, fake, monkeypatch
):
    for n in range(5):
        _submit(fake, connected, weight_kg=1 + n)
    seen = {"pages": 0}

    def kill_after_first_page(response, *args, **kwargs):
        if response.url.split("?")[0].endswith(".svc/Submissions"):
            seen["pages"] += 1
            if seen["pages"] == 2:
                raise WorkerKilled

    # Every requests session (pyodk's too) gets the hook: the kill comes from
    # the HTTP layer, between two pages, as a dying process would.
    monkeypatch.setattr(
        requests.sessions, "default_hooks", lambda: {"response": [kill_after_first_page]}
    )
    with pytest.raises(WorkerKilled):
        sync_country(page_size=2)
    assert StockItem.objects.count() == 2
    assert SyncState.objects.get(xml_form_id=REGISTER_FORM_ID).watermark is None
    monkeypatch.undo()
    report = sync_country(page_size=2)
    assert report.error == ""
    assert StockItem.objects.count() == 5
    assert Submission.objects.filter(status=Submission.Status.PROCESSED).count() == 5


def test_two_syncs_of_one_country_cannot_run_at_once(connected, fake):
    import psycopg
    from django.db import connection

    _submit(fake, connected)
    settings_dict = connection.settings_dict
    other = psycopg.connect(
        host=settings_dict["HOST"],
        port=settings_dict["PORT"] or 5432,
        user=settings_dict["USER"],
        dbname=settings_dict["NAME"],
        autocommit=True,
    )
    try:
        other.execute(
            "SELECT pg_advisory_lock(hashtext(%s))", [f"sms-odk-sync:{connection.schema_name}"]
        )
        report = sync_country()
        assert report.skipped and Submission.objects.count() == 0
        # Released now: a closed connection's backend lets go of its locks a
        # moment later (under load, after the next sync has already asked).
        other.execute(
            "SELECT pg_advisory_unlock(hashtext(%s))", [f"sms-odk-sync:{connection.schema_name}"]
        )
    finally:
        other.close()
    assert sync_country().processed == 1


def test_an_invalid_submission_waits_in_the_review_queue_then_is_corrected(connected, fake):
    sub = _submit(fake, connected, weight_kg=-3, country_of_origin="Kenya")
    report = sync_country()
    assert report.needs_review == 1 and StockItem.objects.count() == 0
    stored = Submission.objects.get(central_id=sub.id)
    assert stored.status == Submission.Status.NEEDS_REVIEW
    assert "weight_kg" in stored.errors and "country_of_origin" in stored.errors
    assert "more than 0 kg" in stored.errors["weight_kg"][0]
    # Central shows "has issues" with the reason as a comment.
    assert fake.submissions[sub.id].review_state == "hasIssues"
    assert any("0 kg" in c for c in fake.submissions[sub.id].comments)
    fixed = services.submission_correct(
        actor=connected.admin,
        submission=stored,
        values={"weight_kg": "3.0", "country_of_origin": "KE"},
    )
    assert fixed.status == Submission.Status.PROCESSED
    assert fixed.item.country_of_origin == "KE" and fixed.item.created_by == connected.manager_x
    sync_country()
    assert fake.submissions[sub.id].review_state == "approved"
    assert StockItem.objects.count() == 1


def test_a_rejected_submission_is_kept_with_its_reason_and_central_is_told(connected, fake):
    sub = _submit(fake, connected, site="nowhere")
    sync_country()
    stored = Submission.objects.get(central_id=sub.id)
    assert "nowhere" in stored.errors["site"][0]
    with pytest.raises(Exception, match="why"):
        services.submission_reject(actor=connected.admin, submission=stored, reason=" ")
    services.submission_reject(actor=connected.admin, submission=stored, reason="Test entry")
    sync_country()
    assert fake.submissions[sub.id].review_state == "rejected"
    assert "Test entry" in fake.submissions[sub.id].comments
    assert Submission.objects.get(central_id=sub.id).status == Submission.Status.REJECTED


def test_a_store_manager_cannot_register_at_another_store_through_collect(connected, fake):
    sub = _submit(fake, connected, app=connected.app_y)  # manager Y, site X
    sync_country()
    stored = Submission.objects.get(central_id=sub.id)
    assert stored.status == Submission.Status.NEEDS_REVIEW and "site" in stored.errors
    assert StockItem.objects.count() == 0


def _registered_item(fake, reg):
    _submit(fake, reg)
    sync_country()
    item = StockItem.objects.get()
    return item, ItemEntity.objects.get(item=item)


def _check(fake, reg, link, *, app=None, attachments=None, **values):
    row = {
        "site": "site-x",
        "item": str(link.entity_uuid),
        "found": "yes",
        "damaged": "no",
        "weight_kg": 12.4,
        "photo": None,
        "notes": "",
        **values,
    }
    return fake.submit(
        STOCKTAKE_FORM_ID,
        row,
        submitter_id=(app or reg.app_x).central_id,
        attachments=attachments,
    )


def test_a_stocktake_check_is_recorded_in_the_open_stocktake_of_the_store(connected, fake):
    from custody import services as custody_services
    from custody.models import StockTakeLine
    from ledger.models import LedgerEntry

    item, link = _registered_item(fake, connected)
    stocktake = custody_services.stocktake_open(actor=connected.manager_x, site=connected.site_x)
    sub = _check(
        fake,
        connected,
        link,
        damaged="yes",
        weight_kg=12.4,
        photo="1700000000009.jpg",
        notes="crack at the tip",
        attachments={"1700000000009.jpg": photo(color=(10, 20, 30))},
    )
    report = sync_country()
    assert report.processed == 1 and report.needs_review == 0
    line = StockTakeLine.objects.get(stocktake=stocktake, item=item)
    assert line.result == StockTakeLine.Result.DAMAGED
    assert str(line.weight_measured) == "12.400" and line.note == "crack at the tip"
    assert line.checked_by == connected.manager_x
    # The photo joined the item and the line, byte for byte.
    assert line.photo.sha256 == hashlib.sha256(photo(color=(10, 20, 30))).hexdigest()
    assert line.photo.item == item
    check = StockCheck.objects.get(submission__central_id=sub.id)
    assert check.stocktake == stocktake and check.stocktake_line == line
    assert LedgerEntry.objects.filter(
        event=LedgerEntry.Event.STOCKTAKE_CHECKED, item=item, stocktake=stocktake
    ).exists()
    assert fake.submissions[sub.id].review_state == "approved"
    # An edit in Collect (not found after all) corrects the same line.
    fake.edit(fake.submissions[sub.id], {"found": "no", "damaged": None, "weight_kg": None})
    assert sync_country().processed == 1
    line.refresh_from_db()
    assert line.result == StockTakeLine.Result.MISSING and line.weight_measured is None
    assert StockCheck.objects.count() == 1 and StockTakeLine.objects.count() == 1


def test_a_check_with_no_open_stocktake_waits_for_review_and_is_applied_later(connected, fake):
    from custody import services as custody_services
    from custody.models import StockTakeLine

    item, link = _registered_item(fake, connected)
    sub = _check(fake, connected, link)
    report = sync_country()
    assert report.needs_review == 1
    stored = Submission.objects.get(central_id=sub.id)
    assert stored.status == Submission.Status.NEEDS_REVIEW
    assert stored.errors == {"__all__": ["No stock-take is open for this store."]}
    assert fake.submissions[sub.id].review_state == "hasIssues"
    assert any("No stock-take is open" in c for c in fake.submissions[sub.id].comments)
    # Nothing lost: once a stock-take is open the administrator applies it.
    stocktake = custody_services.stocktake_open(actor=connected.manager_x, site=connected.site_x)
    fixed = services.submission_correct(actor=connected.admin, submission=stored, values={})
    assert fixed.status == Submission.Status.PROCESSED
    line = StockTakeLine.objects.get(stocktake=stocktake, item=item)
    assert line.result == StockTakeLine.Result.FOUND and str(line.weight_measured) == "12.400"
    sync_country()
    assert fake.submissions[sub.id].review_state == "approved"


def test_a_store_manager_cannot_check_another_stores_items_through_collect(connected, fake):
    from custody import services as custody_services
    from custody.models import StockTakeLine

    item, link = _registered_item(fake, connected)
    custody_services.stocktake_open(actor=connected.manager_x, site=connected.site_x)
    sub = _check(fake, connected, link, app=connected.app_y)  # manager Y, site X
    sync_country()
    stored = Submission.objects.get(central_id=sub.id)
    assert stored.status == Submission.Status.NEEDS_REVIEW and "site" in stored.errors
    assert StockTakeLine.objects.get(item=item).result == StockTakeLine.Result.UNCHECKED


def test_country_b_sync_never_touches_country_a(connected, fake, country_b):
    from django_tenants.utils import schema_context

    from tests.factories import SiteFactory, make_user

    from .fake_central import PASSWORD, USERNAME, FakeCentral

    _submit(fake, connected)
    central_b = FakeCentral().start()
    try:
        with schema_context(country_b.schema_name):
            from accounts.roles import SMS_ADMINISTRATOR

            SiteFactory(code="site-b")
            admin_b = make_user(role=SMS_ADMINISTRATOR, all_sites=True)
            services.connection_save(
                actor=admin_b,
                base_url=central_b.url,
                username=USERNAME,
                password=PASSWORD,
                current_password=DEFAULT_PASSWORD,
            )
            services.project_create(actor=admin_b)
            fake.requests.clear()
            report = sync_country()
            assert report.error == "" and Submission.objects.count() == 0
        assert fake.requests == []  # A's Central was never called
        assert Submission.objects.count() == 0  # nothing of A processed by B's run
        assert SubmissionAttachment.objects.count() == 0
    finally:
        central_b.stop()
