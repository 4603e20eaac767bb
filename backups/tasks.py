"""The weekly restore drill (Celery beat, sms_platform/celery.py).

tenant-schemas-celery's beat sends an entry to every country schema (there
is no Country row for the public schema), so each country's drill is its own
task: it drills the country it was sent to, from the public schema."""

from celery import shared_task
from django_tenants.utils import get_public_schema_name, schema_context

from tenants.current import current_country_code

from .drill import drill_run


@shared_task(name="backups.restore_drill")
def restore_drill() -> str:
    code = current_country_code()
    if not code:
        return "no country"
    with schema_context(get_public_schema_name()):
        return drill_run(codes=[code]).result
