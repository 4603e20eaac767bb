"""The restore drill's pgBackRest source: the latest backup in the
repository restored into a scratch cluster, every archived WAL replayed.

    SMS_RESTORE_DRILL_SOURCE=backups.pgbackrest_source.PgBackRestSource
    SMS_PGBACKREST_CONFIG=/etc/pgbackrest/pgbackrest.conf
    SMS_PGBACKREST_STANZA=sms
    SMS_MEDIA_BACKUP_DIR=/var/backups/sms-media      (scripts/media_backup.sh's DEST)

What it does, in a private temporary directory: ``pgbackrest restore`` of
the newest backup set into a new data directory (``--archive-mode=off``: the
copy never pushes WAL into the production repository), a configuration of its
own (a free port, no TCP, a Unix socket in a 0700 directory, trust there
only), the cluster started with PostgreSQL's ``pg_ctl`` and waited on until
recovery has replayed every archived WAL and promoted. The drill's checks
then run against that cluster's copy of the production database with the
media copy ``SMS_MEDIA_BACKUP_DIR/latest/files``; on exit the cluster is
stopped and its directory goes with the drill's temporary directory.

It runs where the backups are readable: on the database host, as root or as
the cluster's owner (PostgreSQL refuses to run as root, so as root the
scratch cluster runs as ``postgres``).
"""

import contextlib
import datetime
import json
import os
import pwd
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.db import connection
from django.utils.translation import gettext as _

from tenants.models import Country

from .drill import Restored, Scratch

# How long recovery may take to replay the archived WAL before the drill gives up.
RECOVERY_TIMEOUT_SECONDS = 3600


def server_bindir() -> Path:
    """The newest PostgreSQL server binaries (Debian: /usr/lib/postgresql/N/bin)."""
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda path: int(path.parent.name) if path.parent.name.isdigit() else 0,
    )
    for bindir in reversed(found):
        if (bindir / "pg_ctl").exists():
            return bindir
    on_path = shutil.which("pg_ctl")
    if on_path:
        return Path(on_path).parent
    raise RuntimeError(_("The PostgreSQL server binaries (pg_ctl) are not installed."))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PgBackRestSource:
    name = "pgBackRest"

    def __init__(self):
        self.config = settings.SMS_PGBACKREST_CONFIG
        self.stanza = settings.SMS_PGBACKREST_STANZA
        self.media = settings.SMS_MEDIA_BACKUP_DIR

    # --- pgBackRest -------------------------------------------------------------

    def _pgbackrest(self, *args: str, as_user: str | None = None) -> str:
        command = [
            shutil.which("pgbackrest") or "pgbackrest",
            f"--config={self.config}",
            f"--stanza={self.stanza}",
            *args,
        ]
        done = subprocess.run(
            _as(as_user, command), capture_output=True, text=True, cwd="/", check=False
        )
        if done.returncode != 0:
            raise RuntimeError(
                _("pgbackrest %(command)s failed: %(error)s")
                % {"command": args[-1], "error": (done.stderr or done.stdout).strip()[-2000:]}
            )
        return done.stdout

    def latest_backup(self) -> dict:
        """The newest backup set: its label and when it ended (``pgbackrest info``)."""
        (stanza,) = json.loads(self._pgbackrest("--output=json", "info"))
        backups = stanza.get("backup") or []
        if not backups:
            raise RuntimeError(
                _("The pgBackRest repository holds no backup of stanza %(stanza)s.")
                % {"stanza": self.stanza}
            )
        newest = backups[-1]
        stopped = datetime.datetime.fromtimestamp(newest["timestamp"]["stop"], tz=datetime.UTC)
        return {"label": newest["label"], "type": newest["type"], "made_at": stopped}

    # --- The scratch cluster ------------------------------------------------------

    @contextlib.contextmanager
    def restored(self, *, countries: list[Country], work: Path) -> Iterator[Restored]:
        if not (self.config and self.stanza and self.media):
            raise RuntimeError(
                _(
                    "The pgBackRest drill needs SMS_PGBACKREST_CONFIG, SMS_PGBACKREST_STANZA "
                    "and SMS_MEDIA_BACKUP_DIR."
                )
            )
        media = Path(self.media) / "latest" / "files"
        if not media.is_dir():
            raise RuntimeError(
                _("No media copy in %(folder)s (scripts/media_backup.sh writes it).")
                % {"folder": media}
            )
        owner = "postgres" if os.geteuid() == 0 else None
        backup = self.latest_backup()
        bindir = server_bindir()
        # The cluster's owner must reach its directories inside the drill's
        # private folder: traversal only, no listing.
        work.chmod(0o711)
        data, run = work / "cluster", work / "run"
        for folder in (data, run):
            folder.mkdir(mode=0o700)
            if owner:
                user = pwd.getpwnam(owner)
                os.chown(folder, user.pw_uid, user.pw_gid)
        self._pgbackrest(
            f"--pg1-path={data}",
            f"--set={backup['label']}",
            "--archive-mode=off",
            "restore",
            as_user=owner,
        )
        port = _free_port()
        _configure(data, run=run, port=port, as_user=owner)
        log = run / "server.log"  # a folder the cluster's owner can write in
        pg_ctl = str(bindir / "pg_ctl")
        started = subprocess.run(
            _as(owner, [pg_ctl, "-D", str(data), "-l", str(log), "-w", "-t", "600", "start"]),
            capture_output=True,
            text=True,
            cwd="/",
            check=False,
        )
        try:
            if started.returncode != 0:
                raise RuntimeError(
                    _("The restored cluster did not start: %(error)s")
                    % {"error": _tail(log) or started.stderr.strip()[-2000:]}
                )
            database = connection.settings_dict["NAME"]
            url = f"postgres://postgres@{quote(str(run), safe='')}:{port}/{quote(database)}"
            _wait_for_promotion(bindir, run, port, as_user=owner, log=log)
            source = _("pgBackRest backup %(label)s (%(type)s), WAL replayed") % backup
            infos = {
                country.code: {"archive": source, "made_at": backup["made_at"].isoformat()}
                for country in countries
            }
            yield Restored(scratch=Scratch(database_url=url, media_root=media), countries=infos)
        finally:
            subprocess.run(
                _as(owner, [pg_ctl, "-D", str(data), "-m", "immediate", "stop"]),
                capture_output=True,
                cwd="/",
                check=False,
            )


def _as(user: str | None, command: list[str]) -> list[str]:
    return ["runuser", "-u", user, "--", *command] if user else command


def _tail(log: Path) -> str:
    try:
        return log.read_text(errors="replace").strip()[-2000:]
    except OSError:
        return ""


def _configure(data: Path, *, run: Path, port: int, as_user: str | None) -> None:
    """The copy's own settings, after production's (the last value wins):
    its own port and socket, no TCP, trust on the 0700 socket only, no WAL
    archiving. Debian keeps postgresql.conf outside the data directory: an
    empty one is made when the backup holds none."""
    settings_lines = [
        "",
        "# The SMS restore drill's scratch copy (backups.pgbackrest_source).",
        f"port = {port}",
        "listen_addresses = ''",
        f"unix_socket_directories = '{run}'",
        "unix_socket_permissions = 0700",
        f"hba_file = '{data / 'pg_hba_drill.conf'}'",
        f"ident_file = '{data / 'pg_ident_drill.conf'}'",
        "archive_mode = off",
        "hot_standby = on",
        "",
    ]
    files = {
        data / "pg_hba_drill.conf": "local all all trust\n",
        data / "pg_ident_drill.conf": "",
    }
    conf = data / "postgresql.conf"
    if not conf.exists():
        files[conf] = ""
    for path, text in files.items():
        path.write_text(text)
    with (data / "postgresql.auto.conf").open("a") as stream:
        stream.write("\n".join(settings_lines))
    if as_user:
        user = pwd.getpwnam(as_user)
        for path in [*files, data / "postgresql.auto.conf"]:
            os.chown(path, user.pw_uid, user.pw_gid)


def _wait_for_promotion(bindir: Path, run: Path, port: int, *, as_user, log: Path) -> None:
    """Until recovery has replayed the archived WAL and the copy accepts writes."""
    psql = [
        str(bindir / "psql"),
        "-h",
        str(run),
        "-p",
        str(port),
        "-U",
        "postgres",
        "-d",
        "postgres",
        "-XAtq",
        "-c",
        "SELECT pg_is_in_recovery()",
    ]
    deadline = time.monotonic() + RECOVERY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        done = subprocess.run(_as(as_user, psql), capture_output=True, text=True, cwd="/")
        if done.returncode == 0 and done.stdout.strip() == "f":
            return
        time.sleep(1)
    raise RuntimeError(
        _("The restored cluster was still recovering after %(seconds)s s: %(log)s")
        % {"seconds": RECOVERY_TIMEOUT_SECONDS, "log": _tail(log)}
    )
