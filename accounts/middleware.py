"""Per request: the language (the user's choice, else the one picked before
signing in, else the country's default; the browser's on the public host),
and the second factor for the whole session."""

from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpResponseRedirect
from django.urls import Resolver404, resolve, reverse
from django.utils import translation
from django_tenants.utils import get_public_schema_name

from .selectors import totp_device_of, two_factor_required


class UserLanguageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        language = self._language_for(request)
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        translation.deactivate()
        return response

    @staticmethod
    def _language_for(request) -> str:
        known = dict(settings.LANGUAGES)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.language in known:
            return user.language
        chosen = request.session.get("sms_language")  # picked before signing in
        if chosen in known:
            return chosen
        tenant = getattr(request, "tenant", None)
        if tenant is not None and tenant.schema_name != get_public_schema_name():
            return tenant.default_language if tenant.default_language in known else "en"
        return translation.get_language_from_request(request) or settings.LANGUAGE_CODE


class SecondFactorMiddleware:
    """Two-step sign-in holds for the whole session, not at sign-in only.

    On every request of a signed-in person whose account needs a second factor
    now (an administrator's role, the country's policy, platform staff) and
    whose session was not verified with one — promoted since they signed in,
    or their app was reset — every page sends them to type their code (app
    set up) or to set one up, and back. Until then nothing else opens, the
    administration pages least of all. After authentication, django-otp's
    OTPMiddleware (user.is_verified) and allauth's AccountMiddleware.
    """

    # Pages that must open to get verified, or to leave.
    OPEN = frozenset(
        {
            "account_security_verify",
            "account_security_enrol",
            "account_reauthenticate",
            "account_logout",
            "account_set_language",
        }
    )

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self._check(request)
        return response if response is not None else self.get_response(request)

    def _check(self, request):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        is_verified = getattr(user, "is_verified", None)
        if is_verified is not None and is_verified():
            return None
        if not two_factor_required(user=user, country=getattr(request, "tenant", None)):
            return None
        try:
            name = resolve(request.path_info, getattr(request, "urlconf", None)).url_name
        except Resolver404:
            name = None
        if name in self.OPEN:
            return None
        step = "account_security_verify" if totp_device_of(user) else "account_security_enrol"
        url = reverse(step, urlconf=getattr(request, "urlconf", None))
        if request.method == "GET":
            url = f"{url}?{urlencode({'next': request.get_full_path()})}"
        return HttpResponseRedirect(url)
