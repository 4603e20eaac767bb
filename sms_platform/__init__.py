"""Deployment-wide wiring: settings, URL confs, WSGI, Celery, the staff console.

Named ``sms_platform`` and not ``platform``: a top-level ``platform`` package
would shadow Python's standard-library module that uuid, Celery, sentry-sdk,
runserver and pytest import.
"""

from .celery import app as celery_app

__all__ = ["celery_app"]
