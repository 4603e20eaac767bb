"""Gunicorn settings for SMS (WSGI only: the async ORM is not tenant-safe).

Used by the container image, the systemd unit and the Kubernetes Deployment:
    gunicorn sms_platform.wsgi:application --config deploy/gunicorn.conf.py
"""

import os

bind = os.environ.get("SMS_BIND", "0.0.0.0:8000")
# Sync workers: one request per process; WEB_CONCURRENCY overrides (gunicorn reads it too).
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
worker_class = "sync"
# Reports and photo uploads can take a while; nginx waits 120 s as well.
timeout = int(os.environ.get("SMS_WEB_TIMEOUT", "120"))
graceful_timeout = 30
# Recycle workers now and then so a slow leak can't grow forever. Not too
# often: a new worker imports Django and SMS and compiles its templates
# again (~2 s of CPU). At 1,000 requests each, 3 workers serving 100 pages a
# second were each replaced every ~30 s, and the load benchmark
# (bench/load_pages.py) lost a third of its throughput on the page that ran
# while they were.
max_requests = 10000
max_requests_jitter = 1000
accesslog = "-"
errorlog = "-"
# Django reads X-Forwarded-Proto itself (SECURE_PROXY_SSL_HEADER); the app
# must only be reachable through nginx, which overwrites that header.
forwarded_allow_ips = os.environ.get("SMS_FORWARDED_ALLOW_IPS", "127.0.0.1")


def post_worker_init(worker):
    """The application is loaded in this worker: import every view (the
    countries' and the console's URL configurations), then move all that
    start-up made — modules, classes, settings, ~200,000 objects that live
    as long as the worker — out of the garbage collector's sight
    (``gc.freeze``). Otherwise each full
    collection walks them all again: a few tenths of a millisecond a
    request, more on the requests that trigger one."""
    import gc

    from django.conf import settings
    from django.urls import get_resolver

    for urlconf in (settings.ROOT_URLCONF, settings.PUBLIC_SCHEMA_URLCONF):
        get_resolver(urlconf).url_patterns  # noqa: B018 - imports the views and their forms
    gc.freeze()
