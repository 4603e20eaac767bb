"""deploy/sms.env.example gives the production settings as written: a shell
reads it (systemd and compose read the same syntax), and with its empty
secrets filled in, `check --deploy` finds nothing."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "deploy" / "sms.env.example"


def read_as_a_shell_does() -> dict[str, str]:
    done = subprocess.run(
        ["bash", "-c", 'set -a; . "$1"; set +a; env -0', "bash", str(EXAMPLE)],
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert not done.stderr, done.stderr  # e.g. "No such file" from an unquoted `<`
    return dict(item.split("=", 1) for item in done.stdout.split("\0") if "=" in item)


def test_the_example_is_production_and_names_every_connection():
    values = read_as_a_shell_does()
    assert values["SMS_ENV"] == "production"
    assert values["DEFAULT_FROM_EMAIL"] == "SMS <no-reply@sms.example.org>"
    for name in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "DJANGO_SECRET_KEY"):
        assert name in values


from tests.sms_platform.test_settings import _ledger_key_file  # noqa: E402


def test_the_example_filled_in_passes_check_deploy():
    values = read_as_a_shell_does()
    names = [
        line.split("=", 1)[0]
        for line in EXAMPLE.read_text().splitlines()
        if "=" in line and not line.startswith("#")
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "SMS_", "SENTRY_"))}
    env.update({name: values[name] for name in names})
    env.update(
        DJANGO_SECRET_KEY=secrets.token_urlsafe(64),
        SMS_FIELD_ENCRYPTION_KEY=secrets.token_urlsafe(32),
        DATABASE_URL="postgres://sms:secret@127.0.0.1:5432/sms",
        DJANGO_SETTINGS_MODULE="sms_platform.settings",
        # The example's path (/etc/sms/...) is the server's; this machine's key file.
        SMS_LEDGER_SIGNING_KEY_FILE=_ledger_key_file(),
    )
    done = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout
