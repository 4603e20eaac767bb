"""Per-request language: the user's choice, else the one picked before signing
in, else the country's default (the browser's on the public host)."""

from django.conf import settings
from django.utils import translation
from django_tenants.utils import get_public_schema_name


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
