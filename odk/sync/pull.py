"""Pulling submissions from ODK Central (country schema).

One pass per form: ask the OData feed for every submission updated since the
stored watermark (``__system/updatedAt ge W``), page by page with ``$top``
and the rebased ``@odata.nextLink``. Central lists newest first and refuses
``$orderby`` with ``$skiptoken``, so a page boundary is not a point in time:
the watermark moves only when every page of the pass is stored, to the newest
``updatedAt`` seen. A pass that breaks off (Central down, a timeout, a 500, a
killed worker) is repeated from the old watermark; rows already stored are
recognised by ``__id`` and their ``meta/instanceID`` and skipped, so nothing
is lost and nothing is registered twice.

Each submission is applied (odk.sync.apply) in one transaction of its own: a
new one and its item are stored in the same transaction, so the submission
row exists if and only if its item does (the unique ``__id`` refuses a second
row). Attachments are downloaded byte for byte with their SHA-256 (a
submission with attachments is stored first, then its files, then it is
applied); submissions whose attachments were missing are re-checked on every
run, since a late upload does not change updatedAt. Review states are written
back to Central after each page, a few requests at a time.
"""

import dataclasses
import datetime
import hashlib
import logging
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import connection as db_connection
from django.db import transaction
from django.db.models import F
from django.http import Http404
from django.utils import timezone, translation
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from stock.custom_fields import definitions_cached
from tenants.current import current_country

from .. import central, xlsforms
from ..models import CentralConnection, FormVersion, Submission, SubmissionAttachment, SyncState
from ..services import entities_push
from .apply import after_insert, apply_submission, attach_late_photos, needs_review, process
from .run import Run, SyncReport

log = logging.getLogger(__name__)
# Review PATCHes in flight at once: Central answers each in a few ms, and
# waiting for them one by one would cost more than registering the items.
REVIEW_WORKERS = 4
# Metadata kept in step with Central when a known submission comes back
# unedited (its review state changed, or it was re-listed).
METADATA_FIELDS = ("submitter_id", "central_updated_at", "edits", "attachments_expected")


# --- Lock ----------------------------------------------------------------------------


def _lock_key() -> str:
    return f"sms-odk-sync:{db_connection.schema_name}"


def _try_lock() -> bool:
    # Session-level: held across the run's many transactions, released by the
    # finally below or, if the worker dies, when its connection closes.
    with db_connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(hashtext(%s))", [_lock_key()])
        return cursor.fetchone()[0]


def _unlock() -> None:
    with db_connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_unlock(hashtext(%s))", [_lock_key()])


# --- The run ---------------------------------------------------------------------------


def _published_forms() -> list[str]:
    return sorted(
        set(
            FormVersion.objects.filter(published_at__isnull=False).values_list(
                "xml_form_id", flat=True
            )
        )
    )


def _country_language() -> str:
    country = current_country()
    return country.default_language if country else "en"


def sync_country(*, page_size: int | None = None, push_entities: bool = True) -> SyncReport:
    """One sync run of the current country; safe to call at any time, twice at once."""
    report = SyncReport()
    conn = CentralConnection.objects.first()
    if conn is None or conn.project_id is None:
        report.skipped = True
        report.error = _("ODK Central is not configured for this country.")
        return report
    if not _try_lock():
        report.skipped = True
        return report
    try:
        with translation.override(_country_language()), definitions_cached():
            try:
                run = Run(client=central.client_for(conn), conn=conn, report=report)
                for form_id in _published_forms():
                    _pull_form(run, form_id, page_size=page_size or settings.SMS_ODK_PAGE_SIZE)
                    report.forms.append(form_id)
                _recheck_attachments(run)
                _push_reviews(run)
                if push_entities:
                    entities_push(client=run.client, connection=conn)
            except central.CENTRAL_ERRORS as exc:
                report.error = str(exc)[:2000]
                report.central_down = central.did_not_answer(exc)
                log.warning("ODK sync of %s stopped: %s", db_connection.schema_name, exc)
        CentralConnection.objects.filter(pk=conn.pk).update(
            last_sync_at=timezone.now(),
            last_sync_error=report.error,
            last_sync_report=dataclasses.asdict(report),
        )
    finally:
        _unlock()
    return report


def _odata_time(value: datetime.datetime) -> str:
    return value.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _pull_form(run: Run, form_id: str, *, page_size: int) -> None:
    state, _created = SyncState.objects.get_or_create(xml_form_id=form_id)
    params = {"$top": str(page_size)}
    if state.watermark:
        # A submission never edited nor reviewed has no updatedAt: ask for both.
        since = _odata_time(state.watermark)
        params["$filter"] = f"__system/submissionDate ge {since} or __system/updatedAt ge {since}"
    url = f"projects/{run.conn.project_id}/forms/{form_id}.svc/Submissions"
    newest = state.watermark
    while url:
        response = central.checked(run.client.get(url, params=params))
        params = None  # the nextLink carries the query
        body = response.json()
        rows = body.get("value", [])
        known = {
            s.central_id: s
            for s in Submission.objects.filter(central_id__in=[row["__id"] for row in rows])
        }
        touched: list[Submission] = []
        for row in rows:
            _ingest(run, form_id, row, known.get(row["__id"]), touched)
            system = row.get("__system") or {}
            updated = max(
                parse_datetime(value)
                for value in (system.get("updatedAt"), system.get("submissionDate"))
                if value
            )
            if newest is None or updated > newest:
                newest = updated
            run.report.rows += 1
        if touched:
            Submission.objects.bulk_update(touched, fields=METADATA_FIELDS)
        run.report.pages += 1
        # The page is stored: tell Central what became of it before the next one.
        _push_reviews(run, central_ids=[row["__id"] for row in rows])
        next_link = body.get("@odata.nextLink")
        url = central.rebase(next_link, run.conn) if next_link else None
    # Every page of the pass is stored: only now may the watermark move.
    if newest != state.watermark:
        state.watermark = newest
        state.save(update_fields=["watermark", "updated_at"])


# --- One submission -------------------------------------------------------------------------


def _metadata(submission: Submission, system: dict) -> None:
    submitter = system.get("submitterId")
    submission.submitter_id = int(submitter) if submitter not in (None, "") else None
    submission.submitted_at = parse_datetime(system.get("submissionDate") or "")
    submission.central_updated_at = parse_datetime(system.get("updatedAt") or "")
    submission.edits = system.get("edits") or 0
    submission.attachments_expected = system.get("attachmentsExpected") or 0


def _ingest(
    run: Run, form_id: str, row: dict, known: Submission | None, touched: list[Submission]
) -> None:
    system = row.get("__system") or {}
    instance_id = (row.get("meta") or {}).get("instanceID") or row["__id"]
    if known is None:
        _ingest_new(run, form_id, row, instance_id)
        return
    if known.instance_id == instance_id and not system.get("deletedAt"):
        # Seen before, not edited: at most its metadata changed (a review, a
        # re-listing). One UPDATE for the whole page, after the loop.
        before = [getattr(known, name) for name in METADATA_FIELDS]
        _metadata(known, system)
        if [getattr(known, name) for name in METADATA_FIELDS] != before:
            touched.append(known)
        if known.status != Submission.Status.PENDING:
            run.report.unchanged += 1
            return
        # Stored, then the run stopped before it was applied: finish it now.
        if known.attachments_expected:
            _download_attachments(run, known)
        process(submission=known, run=run)
        return
    _ingest_changed(run, form_id, row, instance_id)


def _ingest_new(run: Run, form_id: str, row: dict, instance_id: str) -> None:
    system = row.get("__system") or {}
    submission = Submission(
        central_id=row["__id"],
        xml_form_id=form_id,
        instance_id=instance_id,
        data=xlsforms.flat_answers(row),
    )
    _metadata(submission, system)
    if system.get("deletedAt"):
        submission.status = Submission.Status.DELETED
        submission.save(force_insert=True)
        run.report.unchanged += 1
        return
    if submission.attachments_expected:
        # Files first (their rows point at the submission), then apply it.
        submission.save(force_insert=True)
        _download_attachments(run, submission)
        process(submission=submission, run=run)
        return
    # The common case: the item and the submission in one transaction. A
    # duplicate __id (impossible under the run's lock) would roll both back.
    try:
        with transaction.atomic():
            apply_submission(submission, run)
            submission.save(force_insert=True)
            after_insert(submission)
        run.report.processed += 1
        return
    except (ValidationError, PermissionDenied, Http404) as exc:
        # Rolled back: nothing of what _apply set on the object holds.
        submission.pk, submission.item, submission.processed_instance_id = None, None, ""
        needs_review(submission, exc)
        submission.save(force_insert=True)
    run.report.needs_review += 1


def _editor(run: Run, form_id: str, central_id: str, instance_id: str) -> dict:
    """The Central actor who made the version ``instance_id`` ({"id", "name"};
    {} when Central doesn't say): Central lists a submission's versions with
    their submitter (an edit's is the web user who made it) when asked for
    extended metadata. The OData row's submitterName stays the first sender."""
    client = run.client
    url = (
        f"projects/{run.conn.project_id}/forms/{form_id}"
        f"/submissions/{client.session.urlquote(central_id)}/versions"
    )
    versions = central.checked(client.get(url, headers={"X-Extended-Metadata": "true"})).json()
    for version in versions:
        if version.get("instanceId") == instance_id:
            submitter = version.get("submitter") or {}
            actor_id = submitter.get("id", version.get("submitterId"))
            return {"id": actor_id, "name": submitter.get("displayName") or ""}
    return {}


def _ingest_changed(run: Run, form_id: str, row: dict, instance_id: str) -> None:
    """An edited or deleted submission: the stored row is locked and updated."""
    system = row.get("__system") or {}
    # Asked before the transaction: no row lock held across a request.
    editor = {} if system.get("deletedAt") else _editor(run, form_id, row["__id"], instance_id)
    with transaction.atomic():
        submission = Submission.objects.select_for_update().get(central_id=row["__id"])
        _metadata(submission, system)
        if system.get("deletedAt"):
            if submission.status != Submission.Status.PROCESSED:
                submission.status = Submission.Status.DELETED
            submission.save()
            run.report.unchanged += 1
            return
        submission.instance_id = instance_id
        submission.data = xlsforms.flat_answers(row)
        submission.edited_by = editor
        # Central shows an edited submission as "edited", whatever was sent
        # before: the state this version earns must be sent again.
        submission.review_pushed = ""
        if submission.status != Submission.Status.PENDING:
            # An edit in Central: it is applied to what the first version made.
            submission.status = Submission.Status.PENDING
            submission.corrections = {}
        submission.save()
    if submission.attachments_expected:
        _download_attachments(run, submission)
    process(submission=submission, run=run)


def _download_attachments(run: Run, submission: Submission) -> None:
    client, conn = run.client, run.conn
    base = (
        f"projects/{conn.project_id}/forms/{submission.xml_form_id}"
        f"/submissions/{client.session.urlquote(submission.central_id)}/attachments"
    )
    listing = central.checked(client.get(base)).json()
    have = set(submission.attachments.values_list("name", flat=True))
    for entry in listing:
        name = entry["name"]
        if not entry.get("exists") or name in have:
            continue
        response = central.checked(
            client.get(f"{base}/{client.session.urlquote(name)}", stream=True)
        )
        content = b"".join(response.iter_content(chunk_size=65536))
        attachment = SubmissionAttachment(
            submission=submission,
            name=name,
            sha256=hashlib.sha256(content).hexdigest(),
            size_bytes=len(content),
        )
        attachment.file.save(name, ContentFile(content), save=False)
        attachment.save()
        have.add(name)
        run.report.attachments += 1
    present = len(have)
    Submission.objects.filter(pk=submission.pk).update(attachments_present=present)
    submission.attachments_present = present


def _recheck_attachments(run: Run) -> None:
    """Late attachments don't change updatedAt: look again at what was missing."""
    waiting = Submission.objects.filter(
        attachments_present__lt=F("attachments_expected"),
        status__in=[Submission.Status.PROCESSED, Submission.Status.NEEDS_REVIEW],
    )
    for submission in waiting:
        before = submission.attachments_present
        _download_attachments(run, submission)
        if submission.attachments_present == before:
            continue
        if submission.status == Submission.Status.NEEDS_REVIEW:
            # A missing photo may have been the problem: try again.
            process(submission=submission, run=run)
        else:
            attach_late_photos(submission, run=run)


# --- Review states back to Central ----------------------------------------------------------


def _review_comment(submission: Submission) -> str | None:
    if submission.review_wanted == "rejected":
        return submission.rejection_reason or None
    if submission.review_wanted == "hasIssues":
        lines = []
        for key, messages in (submission.errors or {}).items():
            prefix = "" if key == NON_FIELD_ERRORS else f"{key}: "
            lines.extend(prefix + message for message in messages)
        return "\n".join(lines) or None
    return None


def _push_reviews(run: Run, *, central_ids: list[str] | None = None) -> None:
    """Write wanted review states to Central (those of ``central_ids``, or all
    still waiting), a few at a time; record the ones Central took in one
    UPDATE per state. A failed request stops the run after the others are
    recorded; what is left is pushed by the next run."""
    pending = Submission.objects.exclude(review_wanted="").exclude(review_wanted=F("review_pushed"))
    if central_ids is not None:
        pending = pending.filter(central_id__in=central_ids)
    pending = list(
        pending.only(
            "pk", "central_id", "xml_form_id", "review_wanted", "errors", "rejection_reason"
        )
    )
    if not pending:
        return
    client, project_id = run.client, run.conn.project_id

    def push(submission: Submission) -> Submission:
        client.submissions.review(
            instance_id=submission.central_id,
            review_state=submission.review_wanted,
            form_id=submission.xml_form_id,
            project_id=project_id,
            comment=_review_comment(submission),
        )
        return submission

    done: dict[str, list[int]] = {}
    failure = None
    with ThreadPoolExecutor(max_workers=REVIEW_WORKERS) as pool:
        futures = [pool.submit(push, submission) for submission in pending]
        for future in futures:
            try:
                submission = future.result()
            except central.CENTRAL_ERRORS as exc:
                failure = failure or exc
                continue
            done.setdefault(submission.review_wanted, []).append(submission.pk)
    for state, pks in done.items():
        # Only if nobody asked for another state meanwhile (a rejection).
        Submission.objects.filter(pk__in=pks, review_wanted=state).update(review_pushed=state)
        run.report.reviews_pushed += len(pks)
    if failure is not None:
        raise failure
