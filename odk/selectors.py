"""ODK reads (country schema). Only SMS administrators see any of this: for
anyone else every selector raises Http404, as for an object out of scope."""

from django.db.models import F
from django.http import Http404

from accounts.management_scope import within_reach
from stock.scope import reach_of

from .models import AppUser, CentralConnection, FormVersion, Submission


def require_odk_admin(user) -> None:
    if not (getattr(user, "is_authenticated", False) and user.has_perm("odk.manage_odk")):
        raise Http404


def _in_reach(user, app_user: AppUser) -> bool:
    # An app user's QR code signs in to ODK Collect as that store manager:
    # only for administrators whose scope covers them (scope is a ceiling).
    return within_reach(reach_of(user), reach_of(app_user.user))


def overview(*, user) -> dict:
    require_odk_admin(user)
    latest = {}
    for form in FormVersion.objects.order_by("kind", "-created_at"):
        latest.setdefault(form.kind, form)
    return {
        "connection": connection(),
        "forms": list(latest.values()),
        "app_users": [a for a in AppUser.objects.select_related("user") if _in_reach(user, a)],
        "queue_count": Submission.objects.filter(status=Submission.Status.NEEDS_REVIEW).count(),
        "waiting_photos": Submission.objects.filter(
            attachments_present__lt=F("attachments_expected")
        ).count(),
        "processed_count": Submission.objects.filter(status=Submission.Status.PROCESSED).count(),
    }


def connection() -> CentralConnection | None:
    """The country's ODK Central connection, if one is set up."""
    return CentralConnection.objects.first()


def review_queue(*, user):
    require_odk_admin(user)
    return Submission.objects.filter(status=Submission.Status.NEEDS_REVIEW).order_by("submitted_at")


def submission_get(*, user, pk: int) -> Submission:
    require_odk_admin(user)
    submission = Submission.objects.filter(pk=pk).first()
    if submission is None:
        raise Http404
    return submission


def app_user_get(*, user, pk: int) -> AppUser:
    require_odk_admin(user)
    app_user = AppUser.objects.select_related("user").filter(pk=pk).first()
    if app_user is None or not _in_reach(user, app_user):
        raise Http404
    return app_user
