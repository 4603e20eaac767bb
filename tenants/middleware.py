"""Routes each request to its country's schema by host name."""

from django.conf import settings
from django.db import connection
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django_tenants.middleware.main import TenantMainMiddleware
from django_tenants.utils import get_public_schema_name

from .current import country_zone
from .hosts import country_for_host
from .models import Country


class CountryMiddleware(TenantMainMiddleware):
    """django-tenants' middleware, plus: the public host needs no Country row,
    an unknown host is a 404, a suspended country shows a page saying so, and
    the country's time zone is the request's current one (times on pages, day
    filters, "today"), as reports already use it."""

    TENANT_NOT_FOUND_EXCEPTION = Http404

    def get_tenant(self, domain_model, hostname):
        if hostname == settings.SMS_BASE_DOMAIN:
            return Country(schema_name=get_public_schema_name(), code="", name="SMS")
        # Kept per process until any country or domain changes (tenants.hosts).
        return country_for_host(hostname)

    def process_request(self, request):
        response = super().process_request(request)
        if response is not None:
            return response
        country = request.tenant
        if country.schema_name == get_public_schema_name():
            timezone.deactivate()
        else:
            zone = country_zone()
            if zone:
                timezone.activate(zone)
            else:
                timezone.deactivate()
        if country.schema_name != get_public_schema_name() and country.is_suspended:
            # The data stays where it is; only access is closed.
            connection.set_schema_to_public()
            return render(
                request, "tenants/suspended.html", {"suspended_country": country}, status=503
            )
        return None

    def process_response(self, request, response):
        # The zone is per thread: the next request (or a test) starts from the default.
        timezone.deactivate()
        return response
