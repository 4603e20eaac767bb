"""Deployment settings: where each app lives, the production profile, Sentry.

The production checks run ``manage.py`` / import the settings in a subprocess
with a production environment, because settings are read once per process.
"""

import json
import os
import secrets
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]

SHARED_ONLY = ["tenants", "provisioning", "sms_platform"]
BOTH = [
    "accounts",
    # The access log: each country's own, and the console's in public.
    "audit",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "allauth",
    "allauth.account",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
]
# Country data: only ever in country schemas.
TENANT_ONLY = ["ledger", "stock", "custody", "odk", "reporting", "administration"]


@pytest.mark.parametrize("app", SHARED_ONLY)
def test_platform_apps_live_in_the_public_schema_only(app):
    assert app in settings.SHARED_APPS
    assert app not in settings.TENANT_APPS


@pytest.mark.parametrize("app", BOTH)
def test_user_apps_live_in_every_schema(app):
    # Users, groups and sessions exist per schema (DESIGN.md, "Users live in each schema").
    assert app in settings.SHARED_APPS
    assert app in settings.TENANT_APPS


@pytest.mark.parametrize("app", TENANT_ONLY)
def test_country_data_apps_live_in_country_schemas_only(app):
    if not (ROOT / app).is_dir():
        pytest.skip(f"{app}/ does not exist yet")
    assert app in settings.TENANT_APPS
    assert app not in settings.SHARED_APPS


def test_no_sites_framework_and_installed_apps_cover_both_lists():
    assert "django.contrib.sites" not in settings.INSTALLED_APPS
    for app in settings.SHARED_APPS + settings.TENANT_APPS:
        assert app in settings.INSTALLED_APPS


def test_no_package_shadows_the_standard_library_platform_module():
    assert not (ROOT / "platform").exists()
    assert not (ROOT / "platform.py").exists()
    import platform

    assert callable(platform.system)
    assert Path(platform.__file__).parent == Path(os.__file__).parent
    # ruff keeps it that way (rule A005, stdlib-module-shadowing).
    ruff = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["ruff"]["lint"]
    assert "A005" in ruff["select"]


_KEY_DIR = None


def _ledger_key_file() -> str:
    """A real Ed25519 key file for the production runs (made once)."""
    global _KEY_DIR
    if _KEY_DIR is None:
        import tempfile

        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        _KEY_DIR = Path(tempfile.mkdtemp(prefix="sms-ledger-key-"))
        (_KEY_DIR / "ledger.pem").write_bytes(
            Ed25519PrivateKey.generate().private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    return str(_KEY_DIR / "ledger.pem")


def _production_env(**extra):
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "SMS_", "SENTRY_"))
    }
    env.update(
        SMS_ENV="production",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(64),
        SMS_BASE_DOMAIN="sms.example.org",
        DJANGO_SETTINGS_MODULE="sms_platform.settings",
        SMS_LEDGER_SIGNING_KEY_FILE=_ledger_key_file(),
        # Production refuses to start without a shared cache.
        REDIS_URL="redis://127.0.0.1:6379/15",
    )
    env.update(extra)
    return env


def _run(args, env):
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_production_settings_pass_check_deploy_without_warnings():
    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], _production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize("key", [None, "", "too-short-to-be-a-real-secret"])
def test_production_refuses_to_start_without_a_real_secret_key(key):
    env = _production_env()
    if key is None:
        del env["DJANGO_SECRET_KEY"]
    else:
        env["DJANGO_SECRET_KEY"] = key
    result = _run(["manage.py", "check"], env)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


@pytest.mark.parametrize("case", ["unset", "missing", "not a key", "not ed25519"])
def test_production_refuses_to_start_without_the_ledger_signing_key(case, tmp_path):
    env = _production_env()
    if case == "unset":
        del env["SMS_LEDGER_SIGNING_KEY_FILE"]
    elif case == "missing":
        env["SMS_LEDGER_SIGNING_KEY_FILE"] = str(tmp_path / "nowhere.pem")
    elif case == "not a key":
        (tmp_path / "junk.pem").write_text("not a key")
        env["SMS_LEDGER_SIGNING_KEY_FILE"] = str(tmp_path / "junk.pem")
    else:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, generate_private_key

        (tmp_path / "ec.pem").write_bytes(
            generate_private_key(SECP256R1()).private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        env["SMS_LEDGER_SIGNING_KEY_FILE"] = str(tmp_path / "ec.pem")
    result = _run(["manage.py", "check"], env)
    assert result.returncode != 0
    assert "SMS_LEDGER_SIGNING_KEY_FILE" in result.stderr
    # Nothing was made up in its place.
    assert not (tmp_path / "nowhere.pem").exists()


READ_SETTINGS = """
import json
from django.conf import settings as s
print(json.dumps({name: getattr(s, name) for name in [
    "DEBUG", "SESSION_COOKIE_NAME", "CSRF_COOKIE_NAME", "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE", "SESSION_COOKIE_DOMAIN", "CSRF_COOKIE_DOMAIN",
    "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_PROXY_SSL_HEADER",
    "SECURE_SSL_REDIRECT", "ALLOWED_HOSTS", "SECRET_KEY",
]}))
"""


def test_production_profile_cookies_hsts_and_proxy_header():
    env = _production_env()
    result = _run(["-c", "import django; django.setup()\n" + READ_SETTINGS], env)
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values["DEBUG"] is False
    assert values["SECRET_KEY"] == env["DJANGO_SECRET_KEY"]
    # __Host- cookies: Secure, path /, no Domain: they never reach another country's host.
    assert values["SESSION_COOKIE_NAME"].startswith("__Host-")
    assert values["CSRF_COOKIE_NAME"].startswith("__Host-")
    assert values["SESSION_COOKIE_SECURE"] and values["CSRF_COOKIE_SECURE"]
    assert values["SESSION_COOKIE_DOMAIN"] is None and values["CSRF_COOKIE_DOMAIN"] is None
    assert values["SECURE_HSTS_SECONDS"] >= 31536000
    assert values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert values["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["ALLOWED_HOSTS"][:2] == ["sms.example.org", ".sms.example.org"]
    assert "testserver" not in values["ALLOWED_HOSTS"]


SENTRY_PROBE = """
import sentry_sdk
import sms_platform.settings
client = sentry_sdk.get_client()
print(client.is_active(), client.options["send_default_pii"], client.options["environment"])
"""


def test_sentry_is_initialised_from_sentry_dsn_without_personal_data():
    env = _production_env(SENTRY_DSN="https://public@127.0.0.1/1")
    result = _run(["-c", SENTRY_PROBE], env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "False", "production"]


def test_sentry_stays_off_without_sentry_dsn():
    result = _run(
        ["-c", SENTRY_PROBE.replace('client.options["environment"]', "0")], _production_env()
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[0] == "False"


def test_every_environment_variable_settings_read_is_documented_for_production():
    import re

    source = (ROOT / "sms_platform" / "settings.py").read_text()
    names = set(
        re.findall(
            r"""(?:environ(?:\.get)?[\[(]|env_bool\(|env_list\()\s*["']([A-Z0-9_]+)["']""", source
        )
    )
    assert {"DJANGO_SECRET_KEY", "DATABASE_URL", "SENTRY_DSN"} <= names
    documented = (ROOT / "deploy" / "README.md").read_text()
    missing = sorted(name for name in names if f"`{name}`" not in documented)
    assert not missing, f"add to deploy/README.md's table: {missing}"


def test_production_refuses_plain_http_and_internal_addresses_for_odk_central():
    # Setting the names in the environment changes nothing: no switch reopens http.
    env = _production_env(SMS_ODK_LOCAL_HTTP="1", SMS_ODK_INTERNAL_HOSTS="central.lan, 10.0.0.7")
    probe = (
        "import django; django.setup()\n"
        "import json\n"
        "from django.conf import settings as s\n"
        "from django.core.exceptions import ValidationError\n"
        "from odk.central import checked_address\n"
        "refused = []\n"
        "for url in ['http://127.0.0.1:8383', 'http://localhost', 'https://127.0.0.1']:\n"
        "    try:\n"
        "        checked_address(url)\n"
        "    except ValidationError:\n"
        "        refused.append(url)\n"
        "print(json.dumps([s.SMS_ODK_LOCAL_HTTP, s.SMS_ODK_REFUSE_INTERNAL,"
        " s.SMS_ODK_INTERNAL_HOSTS, refused]))\n"
    )
    result = _run(["-c", probe], env)
    assert result.returncode == 0, result.stderr
    local_http, refuse_internal, internal_hosts, refused = json.loads(
        result.stdout.strip().splitlines()[-1]
    )
    assert local_http is False and refuse_internal is True
    assert internal_hosts == ["central.lan", "10.0.0.7"]
    assert refused == ["http://127.0.0.1:8383", "http://localhost", "https://127.0.0.1"]


def test_production_refuses_to_start_without_a_shared_cache():
    env = _production_env()
    del env["REDIS_URL"]
    result = _run(["manage.py", "check"], env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and "REDIS_URL" in result.stderr
    # A process that says it serves nobody (the restore drill's scratch copy).
    env["SMS_CACHE_PER_PROCESS"] = "1"
    assert _run(["manage.py", "check"], env).returncode == 0
