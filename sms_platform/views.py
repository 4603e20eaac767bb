"""Public-host console for platform staff (public schema). A country's home
page is the stock dashboard (stock.views.dashboard)."""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django_tenants.utils import get_public_schema_name

from backups.selectors import drill_list
from core.access import access_exempt

from .selectors import country_overview_list


def _on_public_host(request) -> bool:
    return request.tenant.schema_name == get_public_schema_name()


@access_exempt("the platform console: countries and counts, never a country's data")
@login_required
def console(request):
    """Countries with status, host, creation date and counts of users and sites,
    and the last restore drills: no stock data ever appears here."""
    if not _on_public_host(request) or not request.user.is_staff:
        raise Http404
    return render(
        request,
        "sms_platform/console.html",
        {"countries": country_overview_list(), "drills": drill_list()},
    )


@access_exempt("the browser's icon: a static file")
def favicon(request):
    """Browsers that ask /favicon.ico get the SVG icon every page links to."""
    return redirect(static("favicon.svg"), permanent=True)
