"""The restore drill from pgBackRest: a "production" cluster of its own with
WAL archived to an encrypted pgBackRest repository, holding a copy of this
test database (the public schema and country XQ); a full backup, then rows
written after it (replayed from the archived WAL); the media copied by
scripts/media_backup.sh. The drill restores the newest backup into a scratch
cluster, replays the WAL, checks ledger and photos there and compares the
counts with production; the scratch cluster is gone afterwards.

Needs PostgreSQL's server binaries and Debian's pgbackrest (`./sms test`
installs it as root); runs the clusters as the `postgres` user."""

import io
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django_tenants.utils import schema_context

from backups.models import RestoreDrill
from backups.pgbackrest_source import _free_port, server_bindir

from .conftest import CODE, SCHEMA

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.database_owner]

ROOT = Path(__file__).resolve().parents[2]
STANZA = "drilltest"


def _as_postgres(command: list[str], **options) -> subprocess.CompletedProcess:
    if os.geteuid() == 0:
        command = ["runuser", "-u", "postgres", "--", *command]
    done = subprocess.run(command, cwd="/", capture_output=True, text=True, **options)
    assert done.returncode == 0, f"{command}: {done.stderr}"
    return done


@pytest.fixture
def production_cluster(made):
    """A cluster archiving to pgBackRest with a copy of this database, and a
    full backup of it."""
    assert shutil.which("pgbackrest"), "pgbackrest is not installed (apt-get install pgbackrest)"
    bindir = server_bindir()
    # Not under pytest's tmp_path: its parents are root's only (0700) and the
    # cluster runs as postgres.
    home = Path(tempfile.mkdtemp(prefix="sms-pgbackrest-test-"))
    home.chmod(0o755)
    data, run, repo = home / "data", home / "run", home / "repo"
    for folder in (data, run, repo, home / "log", home / "lock"):
        folder.mkdir(mode=0o700)
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        for path in [home, *home.iterdir()]:
            os.chown(path, user.pw_uid, user.pw_gid)
    port = _free_port()
    config = home / "pgbackrest.conf"
    config.write_text(
        "[global]\n"
        f"repo1-path={repo}\n"
        "repo1-cipher-type=aes-256-cbc\n"
        "repo1-cipher-pass=drill-test-passphrase-0123456789abcdef\n"
        f"log-path={home / 'log'}\nlock-path={home / 'lock'}\n"
        "log-level-console=warn\nstart-fast=y\n\n"
        f"[{STANZA}]\npg1-path={data}\npg1-port={port}\npg1-socket-path={run}\n"
        "pg1-user=postgres\n"
    )
    if os.geteuid() == 0:
        os.chown(config, pwd.getpwnam("postgres").pw_uid, -1)
    config.chmod(0o600)
    _as_postgres(
        [str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"]
    )
    with (data / "postgresql.conf").open("a") as stream:
        stream.write(
            f"port = {port}\nlisten_addresses = ''\nunix_socket_directories = '{run}'\n"
            "wal_level = replica\narchive_mode = on\n"
            f"archive_command = 'pgbackrest --config={config} --stanza={STANZA} "
            "archive-push %p'\n"
        )
    pg_ctl = str(bindir / "pg_ctl")
    _as_postgres([pg_ctl, "-D", str(data), "-l", str(home / "server.log"), "-w", "start"])
    name = connection.settings_dict["NAME"]

    def psql(sql: str, database: str = name) -> str:
        return _as_postgres(
            [str(bindir / "psql"), "-h", str(run), "-p", str(port), "-U", "postgres"]
            + ["-d", database, "-XAtq", "-v", "ON_ERROR_STOP=1", "-c", sql]
        ).stdout.strip()

    try:
        psql(f'CREATE DATABASE "{name}"', database="postgres")
        psql("DROP SCHEMA public")  # the dump names it, so it creates it
        dump = home / "copy.dump"
        subprocess.run(
            [
                str(bindir / "pg_dump"),
                f"postgres://postgres@127.0.0.1:5432/{name}",
                "--format=custom",
                "--no-owner",
                "--no-privileges",
                "--schema=public",
                f"--schema={SCHEMA}",
                f"--file={dump}",
            ],
            check=True,
        )
        dump.chmod(0o644)
        _as_postgres(
            [str(bindir / "pg_restore"), "-h", str(run), "-p", str(port), "-U", "postgres"]
            + ["-d", name, "--no-owner", "--no-privileges", "--exit-on-error", str(dump)]
        )
        pgbackrest = ["pgbackrest", f"--config={config}", f"--stanza={STANZA}"]
        _as_postgres([*pgbackrest, "stanza-create"])
        _as_postgres([*pgbackrest, "--type=full", "backup"])
        yield {
            "config": config,
            "psql": psql,
            # `check` switches to a new WAL segment and waits until the last
            # one is in the repository (production: archive_timeout = 60).
            "archive_now": lambda: _as_postgres([*pgbackrest, "check"]),
        }
    finally:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", pg_ctl, "-D", str(data), "-m", "immediate", "stop"]
            if os.geteuid() == 0
            else [pg_ctl, "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
            cwd="/",
        )
        shutil.rmtree(home, ignore_errors=True)


def _media_copy(media_root: Path, dest: Path) -> None:
    # Where the storage really wrote the country's files: the folder that
    # holds countries/<schema>/ (MEDIA_ROOT as the storage read it).
    from stock.models import ItemPhoto

    with schema_context(SCHEMA):
        stored = Path(ItemPhoto.objects.order_by("pk").first().file.path)
    media_root = next(parent.parent for parent in stored.parents if parent.name == "countries")
    subprocess.run(
        [str(ROOT / "scripts" / "media_backup.sh"), str(dest)],
        env={**os.environ, "SMS_MEDIA_ROOT": str(media_root), "SMS_S3_BUCKET": ""},
        check=True,
        capture_output=True,
    )


def _drill() -> str:
    out = io.StringIO()
    try:
        call_command("restore_drill", "--country", CODE, "--no-email", stdout=out)
    except CommandError:
        pass  # the drill failed: the test reads why from its record
    finally:
        connection.set_schema_to_public()
    return out.getvalue()


def _use_pgbackrest(settings, cluster, media_dest: Path) -> None:
    settings.SMS_RESTORE_DRILL_SOURCE = "backups.pgbackrest_source.PgBackRestSource"
    settings.SMS_PGBACKREST_CONFIG = str(cluster["config"])
    settings.SMS_PGBACKREST_STANZA = STANZA
    settings.SMS_MEDIA_BACKUP_DIR = str(media_dest)


def test_the_drill_restores_the_latest_pgbackrest_backup_replays_wal_and_checks_it(
    made, production_cluster, media_root, settings, tmp_path
):
    # Written after the backup, in production and in its cluster alike: only
    # the archived WAL brings these rows to the restored copy.
    after = (
        f"CREATE TABLE {SCHEMA}.written_after_backup (n integer); "
        f"INSERT INTO {SCHEMA}.written_after_backup SELECT generate_series(1, 5)"
    )
    production_cluster["psql"](after)
    production_cluster["archive_now"]()
    with connection.cursor() as cursor:
        cursor.execute(after)
    _media_copy(media_root, tmp_path / "media-backup")
    _use_pgbackrest(settings, production_cluster, tmp_path / "media-backup")

    out = _drill()

    drill = RestoreDrill.objects.get()
    assert drill.problems == [], drill.problems
    assert f"Restore drill of {CODE} from pgBackRest: Passed" in out
    (detail,) = drill.details
    assert detail["archive"].startswith("pgBackRest backup ")
    evidence = detail["evidence"]
    assert evidence["ok"] and evidence["photos_checked"] == 3
    assert evidence["ledger_checked"] >= 3
    counts = {table: (restored, now) for table, restored, now in detail["counts"]}
    assert counts["stock_stockitem"] == (3, 3)
    assert counts["written_after_backup"] == (5, 5)
    assert all(restored == now for restored, now in counts.values())


def test_a_photo_missing_from_the_media_copy_fails_the_pgbackrest_drill(
    made, production_cluster, media_root, settings, tmp_path
):
    _media_copy(media_root, tmp_path / "media-backup")
    copy = (tmp_path / "media-backup" / "latest" / "files").resolve()
    # An original photo (thumbnails and display copies are not hashed).
    from stock.models import ItemPhoto

    with schema_context(SCHEMA):
        stored = Path(ItemPhoto.objects.order_by("pk").first().file.path)
    root = next(parent.parent for parent in stored.parents if parent.name == "countries")
    photo = copy / stored.relative_to(root)
    photo.unlink()
    _use_pgbackrest(settings, production_cluster, tmp_path / "media-backup")

    _drill()

    drill = RestoreDrill.objects.get()
    assert drill.result == RestoreDrill.Result.FAILED
    assert any(CODE in line and photo.name in line for line in drill.problems), drill.problems
