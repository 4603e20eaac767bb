"""/health/: anonymous, status only, 503 when something it needs is down."""

import datetime
import json
import os
import secrets
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from audit.models import AccessEvent
from sms_platform import health
from tests.factories import make_user

pytestmark = pytest.mark.django_db(transaction=False)

ROOT = Path(__file__).resolve().parents[2]


def test_anonymous_gets_each_check_status_and_nothing_else(client, public_host):
    response = client.get("/health/", HTTP_HOST=public_host)
    assert response.status_code == 200
    body = response.json()
    assert body == {
        "status": "ok",
        "checks": {
            "database": "ok",
            "cache": "ok",
            "storage": "ok",
            # No broker in tests: tasks run in-process.
            "celery": "not configured",
            # No pgBackRest configured here.
            "backup": "unknown",
        },
    }
    assert "no-cache" in response["Cache-Control"]


def test_a_signed_in_visit_is_not_an_access_log_row(client, public_host):
    staff = make_user(username="platform", is_staff=True)
    client.force_login(staff)
    before = AccessEvent.objects.count()
    assert client.get("/health/", HTTP_HOST=public_host).status_code == 200
    assert AccessEvent.objects.count() == before


def test_only_on_the_public_host(client, host_a):
    assert client.get("/health/", HTTP_HOST=host_a).status_code == 404


def write_info(path, stop: datetime.datetime):
    info = [
        {
            "name": "sms",
            "backup": [
                {"type": "full", "timestamp": {"start": 1, "stop": int(stop.timestamp()) - 3600}},
                {"type": "diff", "timestamp": {"start": 1, "stop": int(stop.timestamp())}},
            ],
        }
    ]
    path.write_text(json.dumps(info))


def test_a_recent_backup_passes_an_old_one_fails_with_no_detail(
    client, public_host, settings, tmp_path
):
    info = tmp_path / "info.json"
    settings.SMS_BACKUP_INFO_FILE = str(info)
    settings.SMS_BACKUP_MAX_AGE_HOURS = 36
    write_info(info, timezone.now() - datetime.timedelta(hours=5))
    response = client.get("/health/", HTTP_HOST=public_host)
    assert response.status_code == 200
    assert response.json()["checks"]["backup"] == "ok"

    write_info(info, timezone.now() - datetime.timedelta(hours=40))
    response = client.get("/health/", HTTP_HOST=public_host)
    assert response.status_code == 503
    assert response.json() == {
        "status": "failing",
        "checks": {
            "database": "ok",
            "cache": "ok",
            "storage": "ok",
            "celery": "not configured",
            "backup": "failing",
        },
    }
    assert str(info) not in response.content.decode()

    info.write_text("[]")
    assert client.get("/health/", HTTP_HOST=public_host).status_code == 503


def test_celery_with_a_broker_and_no_worker_fails(client, public_host, settings):
    # A broker nobody listens on: the ping gets no answer.
    settings.CELERY_BROKER_URL = "memory://"
    from sms_platform.celery import app

    app.conf.broker_url = "memory://"
    try:
        response = client.get("/health/", HTTP_HOST=public_host)
    finally:
        app.conf.broker_url = ""
    assert response.status_code == 503
    assert response.json()["checks"]["celery"] == "failing"


def test_celery_that_answered_recently_passes(client, public_host, settings, monkeypatch):
    settings.CELERY_BROKER_URL = "memory://"

    def silent(self):
        raise health.ServiceUnavailable("Celery workers unavailable")

    monkeypatch.setattr(health.Ping, "run", silent)
    from django.core.cache import cache

    cache.set(health.CELERY_PONG_KEY, timezone.now() - datetime.timedelta(seconds=30))
    response = client.get("/health/", HTTP_HOST=public_host)
    assert response.json()["checks"]["celery"] == "ok"
    cache.set(health.CELERY_PONG_KEY, timezone.now() - datetime.timedelta(seconds=600))
    response = client.get("/health/", HTTP_HOST=public_host)
    assert response.status_code == 503
    assert response.json()["checks"]["celery"] == "failing"


PROBE = """
import os, sys
import django
from django.conf import settings
django.setup()
from django.db import connections
if os.environ.get("CLOSED_PORT"):
    # A port nobody listens on: the database is down for this process.
    for conn in connections.all():
        conn.close()
        conn.settings_dict["HOST"] = "127.0.0.1"
        conn.settings_dict["PORT"] = os.environ["CLOSED_PORT"]
from django.test import Client
# Plain HTTP straight to Django, as a probe asks gunicorn.
response = Client().get(sys.argv[1], HTTP_HOST=settings.SMS_BASE_DOMAIN)
print(response.status_code)
print(response.content.decode())
"""


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


from tests.sms_platform.test_settings import _ledger_key_file  # noqa: E402


def probe_in_production(path: str, **env) -> tuple[int, dict]:
    """``path`` asked of a production-configured process, over plain HTTP."""
    database = connection.settings_dict
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "SMS_", "SENTRY_", "CELERY_", "REDIS_"))
    }
    environment.update(
        SMS_ENV="production",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(64),
        SMS_BASE_DOMAIN="sms.example.org",
        DJANGO_SETTINGS_MODULE="sms_platform.settings",
        # Production refuses to start without the ledger's signing key
        # and without a shared cache.
        SMS_LEDGER_SIGNING_KEY_FILE=_ledger_key_file(),
        REDIS_URL="redis://127.0.0.1:6379/15",
        DATABASE_URL=(
            f"postgres://{database['USER']}@{database['HOST'] or '127.0.0.1'}:"
            f"{database['PORT'] or 5432}/{database['NAME']}"
        ),
        **env,
    )
    done = subprocess.run(
        [sys.executable, "-c", PROBE, path],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    lines = done.stdout.strip().splitlines()
    assert len(lines) >= 2, done.stdout + done.stderr[-3000:]
    return int(lines[0]), json.loads(lines[1])


def test_database_down_answers_503_with_no_detail():
    status, body = probe_in_production("/health/ready/", CLOSED_PORT=str(closed_port()))
    assert status == 503
    assert body == {
        "status": "failing",
        "checks": {"database": "failing", "cache": "ok", "storage": "ok"},
    }


@pytest.mark.django_db(transaction=True)
def test_production_probe_over_plain_http_is_not_redirected():
    # Every other path of a production process redirects HTTP to HTTPS.
    status, body = probe_in_production("/health/ready/")
    assert status == 200, body
    assert body["status"] == "ok"


def test_ready_ignores_backup_and_celery(client, public_host, settings, tmp_path):
    info = tmp_path / "info.json"
    info.write_text("[]")  # no backup at all: /health/ fails, readiness does not
    settings.SMS_BACKUP_INFO_FILE = str(info)
    assert client.get("/health/", HTTP_HOST=public_host).status_code == 503
    response = client.get("/health/ready/", HTTP_HOST=public_host)
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "cache": "ok", "storage": "ok"},
    }
