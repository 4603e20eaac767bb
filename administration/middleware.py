"""Ends sessions that must not go on (any schema): after the country's idle
time (Country.idle_session_minutes; the public host uses the same default),
and for a support account whose grant has expired or was ended."""

import time

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.utils.translation import gettext as _

from audit.models import AccessEvent
from audit.services import event_record, origin_of
from audit.signals import SILENT_LOGOUT_ATTR

LAST_SEEN_KEY = "sms_last_seen"
SUPPORT_KEY = "sms_support"
# Writing the session on every request would cost a database write per page;
# a minute's precision is plenty for a timeout counted in minutes.
TOUCH_EVERY_SECONDS = 60
DEFAULT_IDLE_MINUTES = 60


def session_start(request, *, support: bool) -> None:
    """Called at sign-in (administration.signals)."""
    request.session[LAST_SEEN_KEY] = time.time()
    if support:
        request.session[SUPPORT_KEY] = True


class SessionPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            response = self._check(request, user)
            if response is not None:
                return response
        return self.get_response(request)

    def _check(self, request, user):
        now = time.time()
        session = request.session
        minutes = getattr(request.tenant, "idle_session_minutes", None) or DEFAULT_IDLE_MINUTES
        last_seen = session.get(LAST_SEEN_KEY)
        if last_seen is not None and now - last_seen > minutes * 60:
            return self._end(
                request,
                user,
                AccessEvent.Action.SESSION_EXPIRED,
                _("You were signed out after %(minutes)s minutes without activity.")
                % {"minutes": minutes},
                {"idle_minutes": minutes},
            )
        if session.get(SUPPORT_KEY):
            from .services import support_account_valid

            if not support_account_valid(user):
                return self._end(
                    request,
                    user,
                    AccessEvent.Action.SUPPORT_EXPIRED,
                    _("Your support access has ended."),
                    {},
                )
        if last_seen is None or now - last_seen >= TOUCH_EVERY_SECONDS:
            session[LAST_SEEN_KEY] = now
        return None

    @staticmethod
    def _end(request, user, action, message, details):
        event_record(user=user, action=action, origin=origin_of(request), details=details)
        setattr(request, SILENT_LOGOUT_ATTR, True)
        logout(request)
        messages.info(request, message)
        return redirect_to_login(request.get_full_path())
