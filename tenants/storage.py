"""Where a country's files live (wiring): ``countries/<schema>/…`` under the
media root on disk, or under that prefix in an S3-compatible bucket
(tenants.s3storage), chosen by the schema the connection is on.

Neither storage ever writes over an existing file: a name that is taken gets
another name (Django's get_available_name), so two countries' "report 1 of
November" — the same relative name, since ids restart in every schema — land
under two prefixes, and a second file under one name never replaces the first.
"""

from django.conf import settings
from django.db import connection
from django_tenants.files.storage import TenantFileSystemStorage


def country_media_prefix(schema_name: str | None = None) -> str:
    """``countries/<schema>``: the prefix of a country's files, the same on
    disk (under MEDIA_ROOT) and in a bucket."""
    return settings.MULTITENANT_RELATIVE_MEDIA_ROOT % (schema_name or connection.schema_name)


class CountryFileSystemStorage(TenantFileSystemStorage):
    """MEDIA_ROOT/countries/<schema>/…; never overwrites (a taken name gets
    another one: Django opens new files with O_EXCL)."""

    def __init__(self, *args, **kwargs):
        # Evidence files are kept byte for byte: overwriting is never allowed,
        # whatever the options say.
        kwargs["allow_overwrite"] = False
        super().__init__(*args, **kwargs)
