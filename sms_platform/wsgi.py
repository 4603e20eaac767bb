"""WSGI entry point (WSGI only: the async ORM is not tenant-safe)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sms_platform.settings")
application = get_wsgi_application()
