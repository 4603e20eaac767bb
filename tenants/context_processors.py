from django_tenants.utils import get_public_schema_name


def country(request):
    """The current country (None on the public host) for every template."""
    tenant = getattr(request, "tenant", None)
    if tenant is None or tenant.schema_name == get_public_schema_name():
        return {"country": None}
    return {"country": tenant}
