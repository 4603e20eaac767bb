"""Public host (public schema): a platform staff member's own support grants."""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django_tenants.utils import get_public_schema_name

from core.access import access_exempt

from . import selectors


@access_exempt("a staff member's own support grants, nothing of any country")
@login_required
def my_support_grants(request):
    """The grants this staff member holds: country, until when, read-only or
    not — nothing else of any country."""
    if request.tenant.schema_name != get_public_schema_name() or not request.user.is_staff:
        raise Http404
    grants = selectors.support_grants_of_staff(user=request.user)
    return render(request, "audit/my_support_grants.html", {"grants": grants})
