"""WSGI entry point (WSGI only: the async ORM is not tenant-safe)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sms_platform.settings")
application = get_wsgi_application()

# Production refuses to serve with a database role that could switch the
# never-delete triggers off (a superuser, the owner): core.dbroles.
from core.dbroles import refuse_privileged_role  # noqa: E402

refuse_privileged_role()
