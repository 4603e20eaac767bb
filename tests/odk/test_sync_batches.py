"""New registrations are applied in batches (odk.sync.pull._ingest_batch):
each through the register's own service, a refused one isolated, the ledger
chain and the report totals as if applied one at a time, nothing doubled."""

import datetime

import pytest
from django.db import IntegrityError

from ledger import chain as ledger
from ledger.models import LedgerEntry
from odk.models import Submission, SyncState
from odk.sync import pull, sync_country
from odk.xlsforms import REGISTER_FORM_ID
from reporting.aggregates import Totals
from reporting.figures import History, Scope
from stock.models import StockItem

from .conftest import register_values


def _submit(fake, reg, *, app=None, **values):
    """A submission without photos: nothing to download, so it is batched."""
    app = app or reg.app_x
    return fake.submit(
        REGISTER_FORM_ID,
        register_values(photo_1=None, **values),
        submitter_id=app.central_id,
    )


@pytest.fixture
def small_batches(monkeypatch):
    monkeypatch.setattr(pull, "BATCH_SIZE", 3)


def _same_totals():
    today = datetime.date.today()
    for group_by in (("site",), ("item_type", "source")):
        assert Totals(scope=Scope()).balances_at(today, group_by) == History(
            scope=Scope()
        ).balances_at(today, group_by)


def test_a_refused_submission_in_a_batch_takes_none_of_the_others_down(
    connected, fake, small_batches
):
    subs = [
        _submit(fake, connected, weight_kg=10.5),
        _submit(fake, connected, weight_kg=-3),  # refused by the register
        _submit(fake, connected, weight_kg=11.5),
        _submit(fake, connected, site="nowhere"),  # no such store
        _submit(fake, connected, app=connected.app_y),  # manager Y at store X: out of scope
        _submit(fake, connected, weight_kg=12.5),
        _submit(fake, connected, item_type="cut-piece", weight_kg=0.5),
    ]
    ledger_before = LedgerEntry.objects.count()
    report = sync_country()
    assert report.error == ""
    assert (report.processed, report.needs_review) == (4, 3)
    stored = {s.central_id: s for s in Submission.objects.all()}
    assert len(stored) == 7
    refused = {subs[1].id, subs[3].id, subs[4].id}
    for sub in subs:
        row = stored[sub.id]
        if sub.id in refused:
            assert row.status == Submission.Status.NEEDS_REVIEW and row.item_id is None
            assert fake.submissions[sub.id].review_state == "hasIssues"
        else:
            assert row.status == Submission.Status.PROCESSED and row.item_id is not None
            assert fake.submissions[sub.id].review_state == "approved"
            assert row.item.created_by == connected.manager_x
    assert "weight_kg" in stored[subs[1].id].errors
    assert "site" in stored[subs[4].id].errors
    # One item and one ledger entry per accepted submission, chained.
    assert StockItem.objects.count() == 4
    entries = list(LedgerEntry.objects.filter(sequence__gt=ledger_before).order_by("sequence"))
    assert [e.event for e in entries] == ["registered"] * 4
    assert {e.item_id for e in entries} == {
        stored[s.id].item_id for s in subs if s.id not in refused
    }
    assert ledger.verify_chain(full=True).ok
    _same_totals()
    # Idempotent on __id: the same pages again register nothing.
    SyncState.objects.update(watermark=None)
    again = sync_country()
    assert again.processed == 0 and StockItem.objects.count() == 4


def test_a_batch_the_database_refuses_is_stored_one_submission_at_a_time(
    connected, fake, small_batches, monkeypatch
):
    subs = [_submit(fake, connected, weight_kg=5 + n) for n in range(5)]
    real = Submission.objects.bulk_create
    calls = []

    def fails_once(objs, *args, **kwargs):
        calls.append(len(objs))
        if len(calls) == 1:
            raise IntegrityError("refused")
        return real(objs, *args, **kwargs)

    monkeypatch.setattr(Submission.objects, "bulk_create", fails_once)
    report = sync_country()
    assert report.error == "" and report.processed == 5
    assert StockItem.objects.count() == 5
    assert Submission.objects.filter(status=Submission.Status.PROCESSED).count() == 5
    assert {s.central_id for s in Submission.objects.all()} == {s.id for s in subs}
    assert LedgerEntry.objects.filter(event="registered").count() == 5
    assert ledger.verify_chain(full=True).ok
    _same_totals()


def test_a_batch_ends_after_its_time_so_the_rows_it_locks_are_not_held_long(
    connected, fake, monkeypatch
):
    for n in range(4):
        _submit(fake, connected, weight_kg=5 + n)
    monkeypatch.setattr(pull, "BATCH_SECONDS", 0)
    batches = []
    real = ledger.Batch.write

    def write(self):
        batches.append(len(self.entries))
        return real(self)

    monkeypatch.setattr(ledger.Batch, "write", write)
    assert sync_country().processed == 4
    assert batches == [1, 1, 1, 1]


def test_a_submission_with_photos_is_not_batched(connected, fake, monkeypatch):
    # A submission with attachments is stored, its files fetched, then applied:
    # one transaction of its own (odk.sync.pull._ingest_new).
    fake.submit(
        REGISTER_FORM_ID,
        register_values(),
        submitter_id=connected.app_x.central_id,
        attachments={"1700000000001.jpg": b"not a photo"},
    )
    _submit(fake, connected)
    batched = []
    real = pull._ingest_chunk

    def chunk(run, form_id, rows):
        batched.extend(row["__id"] for row in rows)
        return real(run, form_id, rows)

    monkeypatch.setattr(pull, "_ingest_chunk", chunk)
    sync_country()
    assert len(batched) == 1
    assert Submission.objects.count() == 2
