"""``/health/`` on the public host: is this deployment able to serve?

django-health-check runs the checks (database, cache, storage, Celery and the
age of the last backup); the answer says only each check's status, never an
error message (those can name hosts, users or paths): the details go to the
log (logger ``health_check``). 200 when every check passes, 503 otherwise, so
that a load balancer, nginx or a Kubernetes readiness probe takes the process
out of rotation (``/health/ready/``: only the database, cache and storage, for
readiness probes).

A check that has nothing to look at (no broker in development, no backup
configured) says ``not configured`` or ``unknown`` and does not fail: the
page states it rather than hiding it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import json
import logging
import shutil
import subprocess

from django.conf import settings
from django.core.cache import cache
from django.http import JsonResponse
from django.utils import timezone
from health_check.base import HealthCheck
from health_check.checks import Cache, Database, Storage
from health_check.contrib.celery import Ping
from health_check.exceptions import ServiceUnavailable
from health_check.views import HealthCheckView

from core.access import access_exempt

logger = logging.getLogger("health_check")

OK = "ok"
FAILING = "failing"
NOT_CONFIGURED = "not configured"
UNKNOWN = "unknown"

CELERY_PONG_KEY = "sms:health:celery-pong"


@dataclasses.dataclass
class CeleryWorker(HealthCheck):
    """A Celery worker answered a ping now, or within
    ``SMS_HEALTH_CELERY_SILENCE_SECONDS`` (a worker busy with a long export
    may miss one ping: that is not an outage). Without a broker, tasks run
    in-process: ``not configured``."""

    state: str = dataclasses.field(default=OK, repr=False)

    def run(self):
        if not settings.CELERY_BROKER_URL:
            self.state = NOT_CONFIGURED
            return
        now = timezone.now()
        try:
            Ping(timeout=datetime.timedelta(seconds=2), limit=1).run()
        except ServiceUnavailable:
            last = cache.get(CELERY_PONG_KEY)
            silence = datetime.timedelta(seconds=settings.SMS_HEALTH_CELERY_SILENCE_SECONDS)
            if last is None or now - last > silence:
                raise
            return
        cache.set(CELERY_PONG_KEY, now, timeout=None)


def last_backup_time(info: list) -> datetime.datetime | None:
    """The stop time of the newest backup in ``pgbackrest info --output=json``
    (a list of stanzas, each with its ``backup`` list), or None."""
    stops = [
        backup["timestamp"]["stop"]
        for stanza in info
        for backup in stanza.get("backup", [])
        if backup.get("timestamp", {}).get("stop")
    ]
    if not stops:
        return None
    return datetime.datetime.fromtimestamp(max(stops), tz=datetime.UTC)


def read_backup_info() -> list | None:
    """pgBackRest's view of the repository: the file the backup job writes
    (``SMS_BACKUP_INFO_FILE``, for hosts and pods without pgBackRest) or
    ``pgbackrest info`` for ``SMS_PGBACKREST_STANZA``; None if neither is set."""
    if settings.SMS_BACKUP_INFO_FILE:
        with open(settings.SMS_BACKUP_INFO_FILE, encoding="utf-8") as stream:
            return json.load(stream)
    if settings.SMS_PGBACKREST_STANZA:
        command = shutil.which("pgbackrest")
        if command is None:
            raise ServiceUnavailable("pgbackrest is not installed")
        done = subprocess.run(
            [command, f"--stanza={settings.SMS_PGBACKREST_STANZA}", "--output=json", "info"],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
        if done.returncode != 0:
            raise ServiceUnavailable("pgbackrest info failed")
        return json.loads(done.stdout)
    return None


@dataclasses.dataclass
class LastBackup(HealthCheck):
    """The newest pgBackRest backup is younger than ``SMS_BACKUP_MAX_AGE_HOURS``;
    ``unknown`` when no backup is configured here."""

    timeout = datetime.timedelta(seconds=25)
    state: str = dataclasses.field(default=OK, repr=False)

    def run(self):
        try:
            info = read_backup_info()
        except (OSError, ValueError, subprocess.SubprocessError) as error:
            raise ServiceUnavailable("backup information unreadable") from error
        if info is None:
            self.state = UNKNOWN
            return
        stop = last_backup_time(info)
        if stop is None:
            raise ServiceUnavailable("no backup in the repository")
        if timezone.now() - stop > datetime.timedelta(hours=settings.SMS_BACKUP_MAX_AGE_HOURS):
            raise ServiceUnavailable("the last backup is too old")


# The names the answer uses, one per check.
CHECKS = {
    "database": Database,
    "cache": Cache,
    "storage": Storage,
    "celery": CeleryWorker,
    "backup": LastBackup,
}


class HealthView(HealthCheckView):
    checks = tuple(CHECKS.values())

    async def get(self, request, *args, **kwargs):
        with self.get_executor() as executor:
            self.results = await asyncio.gather(
                *(check.get_result(executor) for check in self.get_checks())
            )
        names = {check: name for name, check in CHECKS.items()}
        statuses = {}
        for result in self.results:
            name = names[type(result.check)]
            if result.error is not None:
                statuses[name] = FAILING
            else:
                statuses[name] = getattr(result.check, "state", OK)
        healthy = FAILING not in statuses.values()
        return JsonResponse(
            {"status": OK if healthy else FAILING, "checks": statuses},
            status=200 if healthy else 503,
        )


class ReadyView(HealthView):
    """``/health/ready/``: only what a request needs (database, cache,
    storage), for readiness probes and the proxy. A late backup or a stopped
    worker is for monitoring (``/health/``): taking every web process out of
    rotation for it would close the site without fixing anything."""

    checks = (Database, Cache, Storage)


health = access_exempt("the deployment's health: a status per check, no stored data")(
    HealthView.as_view()
)
ready = access_exempt("whether this process can serve: a status per check, no stored data")(
    ReadyView.as_view()
)
