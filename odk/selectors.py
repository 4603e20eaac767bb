"""ODK reads (country schema). Only SMS administrators see any of this: for
anyone else every selector raises Http404, as for an object out of scope.

Submissions have a site scope like everything tied to a store (stock.scope):
a submission belongs to the store its ``site`` answer names, as corrected in
the review queue — the store an item registers into, the store whose
stock-take a check counts in. A submission that names no known store (a
typo in the code, a store since renamed) belongs to no store: only users who
see every site see it, since nobody can say whose it is.
"""

import datetime

from django.conf import settings
from django.db.models import F, OuterRef, QuerySet, Subquery
from django.db.models.fields.json import KT
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from accounts.management_scope import within_reach
from accounts.permissions import may
from stock.models import Site
from stock.scope import reach_of, restrict_to_scope

from .models import AppUser, CentralConnection, FormVersion, Submission


def require_odk_admin(user) -> None:
    if not may(user, "odk.manage_odk"):
        raise Http404


def submissions_in_scope(user) -> QuerySet:
    """The submissions of the stores ``user`` sees, each with ``review_site_id``
    (the store it names, None if it names none; see the module docstring)."""
    # Corrections override the submitted values key by key (odk.sync._values).
    code = Coalesce(KT("corrections__site"), KT("data__site"))
    store = Site.objects.filter(code=OuterRef("review_site_code")).values("pk")[:1]
    submissions = Submission.objects.annotate(review_site_code=code).annotate(
        review_site_id=Subquery(store)
    )
    return restrict_to_scope(submissions, user, site_field="review_site_id")


def _in_reach(user, app_user: AppUser) -> bool:
    # An app user's QR code signs in to ODK Collect as that store manager:
    # only for administrators whose scope covers them (scope is a ceiling).
    return within_reach(reach_of(user), reach_of(app_user.user))


def overview(*, user) -> dict:
    require_odk_admin(user)
    latest = {}
    for form in FormVersion.objects.order_by("kind", "-created_at"):
        latest.setdefault(form.kind, form)
    submissions = submissions_in_scope(user)
    return {
        "connection": connection(),
        "forms": list(latest.values()),
        "app_users": [a for a in AppUser.objects.select_related("user") if _in_reach(user, a)],
        "queue_count": submissions.filter(status=Submission.Status.NEEDS_REVIEW).count(),
        "waiting_photos": submissions.filter(
            attachments_present__lt=F("attachments_expected")
        ).count(),
        "processed_count": submissions.filter(status=Submission.Status.PROCESSED).count(),
        "sync": sync_state(),
    }


def next_sync_at() -> datetime.datetime:
    """When the schedule runs the sync next: SMS_ODK_SYNC_SECONDS after the
    last run (the beat's period), or one period from now if that has passed."""
    conn = connection()
    period = datetime.timedelta(seconds=settings.SMS_ODK_SYNC_SECONDS)
    now = timezone.now()
    if conn is not None and conn.last_sync_at and conn.last_sync_at + period > now:
        return conn.last_sync_at + period
    return now + period


def sync_state() -> dict | None:
    """Where the country's sync stands, for the ODK page: the last run, what
    it did (or why it stopped, in one sentence), the next run."""
    conn = connection()
    if conn is None:
        return None
    report = conn.last_sync_report or {}
    if conn.last_sync_at is None:
        result = ""
    elif report.get("central_down"):
        result = _("ODK Central did not answer; nothing was lost.")
    elif conn.last_sync_error:
        result = _("Stopped: %(error)s") % {"error": conn.last_sync_error}
    else:
        result = _(
            "Completed: %(processed)s submissions processed, %(review)s waiting for review."
        ) % {
            "processed": report.get("processed", 0),
            "review": report.get("needs_review", 0),
        }
    return {
        "last_at": conn.last_sync_at,
        "ok": conn.last_sync_at is not None and not conn.last_sync_error,
        "result": result,
        "detail": conn.last_sync_error if report.get("central_down") else "",
        "next_at": next_sync_at(),
    }


def central_down_message() -> str:
    """The one sentence a person reads when Central did not answer."""
    at = formats.time_format(timezone.localtime(next_sync_at()))
    return _("ODK Central did not answer; nothing was lost, SMS will try again at %(time)s.") % {
        "time": at
    }


def connection() -> CentralConnection | None:
    """The country's ODK Central connection, if one is set up."""
    return CentralConnection.objects.first()


def review_queue(*, user):
    require_odk_admin(user)
    return (
        submissions_in_scope(user)
        .filter(status=Submission.Status.NEEDS_REVIEW)
        .order_by("submitted_at")
    )


def submission_get(*, user, pk: int) -> Submission:
    """One submission of the user's stores, else Http404 (as for another country's)."""
    require_odk_admin(user)
    submission = submissions_in_scope(user).filter(pk=pk).first()
    if submission is None:
        raise Http404
    return submission


def app_user_get(*, user, pk: int) -> AppUser:
    require_odk_admin(user)
    app_user = AppUser.objects.select_related("user").filter(pk=pk).first()
    if app_user is None or not _in_reach(user, app_user):
        raise Http404
    return app_user
