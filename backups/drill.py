"""The restore drill (public schema): restore the latest backup of each
country into a scratch database, check it there as nightly checks do, compare
its row counts with production, report, drop the scratch copy.

The scratch copy is checked by separate ``manage.py`` processes pointed at
it (DATABASE_URL, media folder, no broker, no shared cache, no bucket): the
copy is verified by code that never sees production, exactly as a new
deployment restored from that backup would run.

Where backups come from is a *source*. ``ExportSource`` (the default) takes
the newest archive of each country in SMS_EXPORT_DIR (export_country's
``sms-<CODE>-<time>.smsx``), or makes a fresh one when there is none. Another
source — a pgBackRest backup restored into a scratch cluster — is a class
named by SMS_RESTORE_DRILL_SOURCE with the same ``restored()`` context
manager; the checks, the comparison and the report stay the same.
"""

import contextlib
import datetime
import json
import logging
import os
import secrets
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import psycopg
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import connection, transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django_tenants.utils import get_public_schema_name

from tenants.models import Country

from . import pg
from .crypto import Passphrase
from .keys import SUFFIX
from .models import RestoreDrill
from .services import country_export, table_counts

logger = logging.getLogger(__name__)

# The scratch copy's processes get none of production's services.
_NOT_FOR_SCRATCH = (
    "DATABASE_URL",
    "SMS_S3_BUCKET",
    "CELERY_BROKER_URL",
    "REDIS_URL",
    "SENTRY_DSN",
    "SMS_EXPORT_DIR",
)


@dataclass
class Scratch:
    """A restored copy: where its database and media are, and how to run
    manage.py against it."""

    database_url: str
    media_root: Path

    def env(self) -> dict:
        env = {k: v for k, v in os.environ.items() if k not in _NOT_FOR_SCRATCH}
        env.update(
            DATABASE_URL=self.database_url,
            # One role for everything in the scratch copy: its own (core.dbroles).
            DATABASE_OWNER_URL=self.database_url,
            SMS_MEDIA_ROOT=str(self.media_root),
            # Not production's cache (REDIS_URL is left out above): the
            # scratch copy's commands serve nobody and keep their own.
            SMS_CACHE_PER_PROCESS="1",
            DJANGO_SETTINGS_MODULE=os.environ.get(
                "DJANGO_SETTINGS_MODULE", "sms_platform.settings"
            ),
        )
        return env

    def manage(self, command: str, *args: str) -> subprocess.CompletedProcess:
        # --skip-checks: production's configuration is checked where it runs;
        # here only the restored data is under test.
        return subprocess.run(
            [
                sys.executable,
                str(Path(settings.BASE_DIR) / "manage.py"),
                command,
                "--skip-checks",
                *args,
            ],
            env=self.env(),
            cwd=settings.BASE_DIR,
            capture_output=True,
            text=True,
        )


@dataclass
class Restored:
    """What a source restored: the scratch copy, and per country what it
    came from (``archive``, ``made_at``) or why it could not be restored
    (``error``)."""

    scratch: Scratch | None
    countries: dict[str, dict] = field(default_factory=dict)


def _server_url(database: str) -> str:
    """A libpq URL for ``database`` on the drill's server: SMS_RESTORE_DRILL_
    DATABASE_URL's server when set (its role needs CREATEDB), else
    production's own server and role."""
    if settings.SMS_RESTORE_DRILL_DATABASE_URL:
        base = psycopg.conninfo.conninfo_to_dict(settings.SMS_RESTORE_DRILL_DATABASE_URL)
        user, password = base.get("user", ""), base.get("password", "")
        host, port = base.get("host", "127.0.0.1"), base.get("port", "5432")
    else:
        db = connection.settings_dict
        user, password = db.get("USER") or "", db.get("PASSWORD") or ""
        host, port = db.get("HOST") or "127.0.0.1", db.get("PORT") or "5432"
    credentials = quote(user, safe="") + (f":{quote(password, safe='')}" if password else "")
    return f"postgres://{credentials}@{host}:{port}/{database}"


@contextlib.contextmanager
def scratch_database() -> Iterator[str]:
    """A new, empty database for the drill; dropped afterwards whatever happens."""
    name = f"{connection.settings_dict['NAME']}_drill_{secrets.token_hex(4)}"[:63]
    pg.quoted(name)
    admin = psycopg.connect(_server_url("postgres"), autocommit=True)
    try:
        admin.execute(f"CREATE DATABASE {pg.quoted(name)}")
        try:
            yield _server_url(name)
        finally:
            admin.execute(f"DROP DATABASE IF EXISTS {pg.quoted(name)} WITH (FORCE)")
    finally:
        admin.close()


def latest_archive(code: str) -> Path | None:
    folder = settings.SMS_EXPORT_DIR
    if not folder or not Path(folder).is_dir():
        return None
    found = sorted(Path(folder).glob(f"sms-{code.upper()}-*{SUFFIX}"))
    return found[-1] if found else None


def _key_options() -> list[str] | None:
    if settings.SMS_EXPORT_IDENTITY_FILE:
        return ["--identity", settings.SMS_EXPORT_IDENTITY_FILE]
    if settings.SMS_EXPORT_PASSPHRASE_FILE:
        return ["--passphrase-file", settings.SMS_EXPORT_PASSPHRASE_FILE]
    return None


class ExportSource:
    """The newest export_country archive of each country (or a fresh export)."""

    name = "export"

    @contextlib.contextmanager
    def restored(self, *, countries: list[Country], work: Path) -> Iterator[Restored]:
        plans = {country.code: self._plan(country, work) for country in countries}
        infos = {code: info for code, (info, _args) in plans.items()}
        if all(info.get("error") for info in infos.values()):
            # Nothing can be restored: no scratch database to make.
            yield Restored(scratch=None, countries=infos)
            return
        with scratch_database() as url:
            scratch = Scratch(database_url=url, media_root=work / "media")
            # A new deployment: the public schema from the migrations.
            done = scratch.manage("migrate_schemas", "--shared", "--verbosity", "0")
            if done.returncode != 0:
                raise RuntimeError(
                    _("The scratch database could not be migrated: %(error)s")
                    % {"error": done.stderr.strip()[-2000:]}
                )
            for info, args in plans.values():
                if not info.get("error"):
                    done = scratch.manage("import_country", *args, "--no-evidence-check")
                    if done.returncode != 0:
                        info["error"] = _("The import failed: %(error)s") % {
                            "error": (done.stderr or done.stdout).strip()[-2000:]
                        }
            yield Restored(scratch=scratch, countries=infos)

    def _plan(self, country: Country, work: Path) -> tuple[dict, list[str]]:
        """(what the country is restored from, import_country's arguments)."""
        archive = latest_archive(country.code)
        if archive is None:
            # No archive kept for this country: the drill makes one now, so
            # the export and the import are both exercised.
            passphrase = secrets.token_urlsafe(32)
            key_file = work / f"{country.code}.passphrase"
            key_file.write_text(passphrase)
            key_file.chmod(0o600)
            archive = work / f"sms-{country.code}-drill{SUFFIX}"
            result = country_export(
                code=country.code, output=archive, encryption=Passphrase(passphrase)
            )
            info = {"archive": _("a fresh export"), "made_at": result.manifest["created_at"]}
            return info, [str(archive), "--passphrase-file", str(key_file)]
        made = datetime.datetime.fromtimestamp(archive.stat().st_mtime, tz=datetime.UTC)
        info = {"archive": archive.name, "made_at": made.isoformat()}
        options = _key_options()
        if options is None:
            info["error"] = _(
                "%(archive)s can't be decrypted: set SMS_EXPORT_PASSPHRASE_FILE or "
                "SMS_EXPORT_IDENTITY_FILE."
            ) % {"archive": archive.name}
            return info, []
        return info, [str(archive), *options]


def drill_source():
    return import_string(settings.SMS_RESTORE_DRILL_SOURCE)()


def append_only_tables(schema: str) -> set[str]:
    """Tables whose rows the database refuses to delete (never-delete triggers)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND t.tgname LIKE %s",
            [schema, "%no\\_delete%"],
        )
        return {row[0] for row in cursor.fetchall()}


def production_counts(schema: str) -> dict[str, int]:
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        return table_counts(schema)


def _check_country(country: Country, scratch: Scratch, info: dict) -> tuple[dict, list[str]]:
    """The scratch copy's evidence check and counts against production."""
    detail = {"code": country.code, **info}
    problems = []
    if info.get("error"):
        return detail, [f"{country.code}: {info['error']}"]
    max_age = settings.SMS_RESTORE_DRILL_MAX_AGE_DAYS
    made_at = datetime.datetime.fromisoformat(info["made_at"])
    age = (timezone.now() - made_at).days
    if max_age and age > max_age:
        problems.append(
            _("%(code)s: the latest backup is %(days)s days old.")
            % {"code": country.code, "days": age}
        )
    done = scratch.manage("drill_inspect", country.code)
    if done.returncode != 0:
        problems.append(
            _("%(code)s: the restored copy could not be checked: %(error)s")
            % {"code": country.code, "error": done.stderr.strip()[-2000:]}
        )
        return detail, problems
    inspected = json.loads(done.stdout)
    evidence = inspected["evidence"]
    detail["evidence"] = evidence
    problems += [f"{country.code}: {line}" for line in evidence["problems"]]
    production = production_counts(country.schema_name)
    append_only = append_only_tables(country.schema_name)
    counts = []
    for table in sorted(set(production) | set(inspected["counts"])):
        restored, now = inspected["counts"].get(table), production.get(table)
        counts.append([table, restored, now])
        if restored is None or now is None:
            problems.append(
                _("%(code)s: table %(table)s is only in %(where)s.")
                % {
                    "code": country.code,
                    "table": table,
                    "where": _("production") if restored is None else _("the backup"),
                }
            )
        elif table in append_only and now < restored:
            problems.append(
                _(
                    "%(code)s: production has fewer rows in %(table)s (%(now)s) than the "
                    "backup (%(restored)s), a table whose rows are never deleted."
                )
                % {"code": country.code, "table": table, "now": now, "restored": restored}
            )
    detail["counts"] = counts
    return detail, problems


def drill_run(*, codes: list[str] | None = None, notify: bool = True) -> RestoreDrill:
    """Run the drill for ``codes`` (default: every country), record it and
    e-mail the result to the platform staff."""
    if connection.schema_name != get_public_schema_name():
        raise RuntimeError("The restore drill runs from the public schema.")
    countries = list(Country.objects.order_by("code"))
    if codes:
        wanted = {code.upper() for code in codes}
        countries = [c for c in countries if c.code in wanted]
    source = drill_source()
    drill = RestoreDrill.objects.create(source=source.name, countries=[c.code for c in countries])
    details, problems = [], []
    try:
        with tempfile.TemporaryDirectory(prefix="sms-drill-") as work:
            with source.restored(countries=countries, work=Path(work)) as restored:
                for country in countries:
                    info = restored.countries.get(country.code, {"error": _("not restored")})
                    detail, found = _check_country(country, restored.scratch, info)
                    details.append(detail)
                    problems += found
    except Exception as exc:  # noqa: BLE001 - the drill reports whatever stopped it
        logger.exception("Restore drill %s stopped", drill.pk)
        problems.append(_("The drill stopped: %(error)s") % {"error": exc})
    if not countries:
        problems.append(_("There is no country to restore."))
    drill.details = details
    drill.problems = problems
    drill.result = RestoreDrill.Result.FAILED if problems else RestoreDrill.Result.PASSED
    drill.finished_at = timezone.now()
    drill.save(update_fields=["details", "problems", "result", "finished_at"])
    if notify:
        drill_notify(drill=drill)
    return drill


def drill_summary(drill: RestoreDrill) -> str:
    return _(
        "Restore drill of %(countries)s from %(source)s: %(result)s (%(problems)s problem(s))."
    ) % {
        "countries": ", ".join(drill.countries) or "—",
        "source": drill.source,
        "result": drill.get_result_display(),
        "problems": len(drill.problems),
    }


def drill_notify(*, drill: RestoreDrill) -> int:
    """E-mail the drill's result to the platform staff (and SMS_RESTORE_DRILL_
    EMAILS). Returns the number of recipients."""
    staff = get_user_model().objects.filter(is_staff=True, is_active=True).exclude(email="")
    recipients = sorted(
        set(staff.values_list("email", flat=True)) | set(settings.SMS_RESTORE_DRILL_EMAILS)
    )
    if not recipients:
        return 0
    passed = drill.result == RestoreDrill.Result.PASSED
    subject = (
        _("SMS restore drill passed: %(countries)s")
        if passed
        else _("SMS restore drill FAILED: %(countries)s")
    ) % {"countries": ", ".join(drill.countries) or "—"}
    lines = [drill_summary(drill), ""]
    for detail in drill.details:
        evidence = detail.get("evidence") or {}
        lines.append(
            _(
                "%(code)s: restored from %(archive)s (%(made_at)s); ledger %(ledger)s entries, "
                "%(photos)s photos, %(reports)s report snapshots checked."
            )
            % {
                "code": detail["code"],
                "archive": detail.get("archive", "—"),
                "made_at": detail.get("made_at", "—"),
                "ledger": evidence.get("ledger_checked", "—"),
                "photos": evidence.get("photos_checked", "—"),
                "reports": evidence.get("reports_checked", "—"),
            }
        )
    if drill.problems:
        lines += ["", _("Problems:")] + [f"- {line}" for line in drill.problems]
    lines += ["", _("The scratch copy has been dropped. The platform console lists every drill.")]
    send_mail(subject, "\n".join(lines) + "\n", settings.DEFAULT_FROM_EMAIL, recipients)
    return len(recipients)
