#!/usr/bin/env python3
"""Production checked end to end on this machine:

    .venv/bin/python scripts/prod_check.py

Brings up the production shape on 127.0.0.1 high ports, under var/prod-check/:
gunicorn with deploy/gunicorn.conf.py, Debian's nginx with deploy/nginx.conf
(ports and certificate paths rewritten, nothing else) and a throwaway
certificate for BASE and *.BASE, a Celery worker and beat on Redis, settings
from deploy/sms.env.example with its empty values filled with test values —
then drives it over HTTPS with requests: /health/, sign in with a password
and a TOTP code (2FA), register an item with a photo, receive a transfer,
export a CITES declaration through Celery and download it, /health/ again.

Installs what it needs when missing (nginx, openssl, redis-server with
apt-get as root; requirements/prod.txt into .venv), uses a fresh database
`sms_prodcheck` with its two roles (web, worker and beat as the application
role, migrations and the demo as the owner; on DATABASE_URL's server, default
the local one), stops every
process it started on exit, and gives up after PROD_CHECK_TIMEOUT seconds
(default 600). Prints PASS or FAIL last; exit status 0 on PASS.
"""

from __future__ import annotations

import html.parser
import json
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "var" / "prod-check"
VENV = ROOT / ".venv"
PY = str(VENV / "bin" / "python")
BASE = "sms.test"
DB_NAME = os.environ.get("PROD_CHECK_DB_NAME", "sms_prodcheck")
DEADLINE = time.monotonic() + float(os.environ.get("PROD_CHECK_TIMEOUT", "600"))

processes: list[subprocess.Popen] = []


def say(message: str) -> None:
    print(f"==> {message}", file=sys.stderr, flush=True)


class Failed(Exception):
    pass


def check(condition, message: str) -> None:
    if not condition:
        raise Failed(message)


def left() -> float:
    remaining = DEADLINE - time.monotonic()
    if remaining <= 0:
        raise Failed("out of time (PROD_CHECK_TIMEOUT)")
    return remaining


def run(args, *, env=None, quiet=True, timeout=None):
    done = subprocess.run(
        args,
        cwd=ROOT,
        env=env,
        capture_output=quiet,
        text=True,
        timeout=min(timeout or left(), left()),
        check=False,
    )
    if done.returncode != 0:
        output = (done.stdout or "") + (done.stderr or "")
        raise Failed(f"{shlex.join(map(str, args))} failed:\n{output[-3000:]}")
    return done.stdout


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- What it needs --------------------------------------------------------------------------


def ensure_tools() -> None:
    missing = [
        package
        for command, package in (
            ("/usr/sbin/nginx", "nginx"),
            ("openssl", "openssl"),
            ("redis-server", "redis-server"),
        )
        if shutil.which(command) is None and not Path(command).exists()
    ]
    if missing:
        check(os.geteuid() == 0, f"install {' '.join(missing)} (apt-get, as root)")
        say(f"Installing {' '.join(missing)}")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        try:
            run(["apt-get", "install", "-y", "-q", *missing], env=env)
        except Failed:
            run(["apt-get", "update", "-q"], env=env)
            run(["apt-get", "install", "-y", "-q", *missing], env=env)
    if subprocess.run([PY, "-c", "import gunicorn, storages"], capture_output=True).returncode:
        say("Installing requirements/prod.txt into .venv")
        run([PY, "-m", "pip", "install", "-q", "-r", "requirements/prod.txt"])


def certificate() -> tuple[Path, Path, Path]:
    """A throwaway certificate authority and, signed by it, the certificate
    for BASE and *.BASE (Python 3.13 verifies strictly: no bare self-signed leaf)."""
    certs = WORK / "certs"
    certs.mkdir(parents=True, exist_ok=True)
    ca_key, ca, key, csr, cert = (
        certs / name for name in ("ca.key", "ca.pem", "privkey.pem", "server.csr", "fullchain.pem")
    )
    extensions = certs / "server.ext"
    extensions.write_text(
        f"subjectAltName=DNS:{BASE},DNS:*.{BASE}\n"
        "basicConstraints=critical,CA:FALSE\n"
        "keyUsage=critical,digitalSignature,keyEncipherment\n"
        "extendedKeyUsage=serverAuth\n"
        "authorityKeyIdentifier=keyid\n"
        "subjectKeyIdentifier=hash\n"
    )
    run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-keyout", ca_key, "-out", ca, "-subj", "/CN=SMS production check CA",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        ]
    )  # fmt: skip
    run(
        ["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr,
         "-subj", f"/CN={BASE}"]
    )  # fmt: skip
    run(
        ["openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
         "-days", "2", "-out", cert, "-extfile", extensions]
    )  # fmt: skip
    return ca, cert, key


def ledger_key_file() -> str:
    """A throwaway Ed25519 key for the custody ledger's signatures (production
    refuses to start without one), made as deploy/README.md says."""
    WORK.mkdir(parents=True, exist_ok=True)
    path = WORK / "ledger-signing-key.pem"
    if not path.exists():
        run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", str(path)])
        path.chmod(0o600)
    return str(path)


def environment(database_url: str, redis_db: int) -> dict[str, str]:
    """deploy/sms.env.example read by a shell, as systemd or `set -a; .` would,
    with its empty values filled for this check."""
    example = ROOT / "deploy" / "sms.env.example"
    dumped = run(
        ["bash", "-c", 'set -a; . "$1"; set +a; env -0', "bash", example],
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
    )
    from_file = dict(item.split("=", 1) for item in dumped.split("\0") if "=" in item)
    names = re.findall(r"^([A-Z][A-Z0-9_]*)=", example.read_text(), re.M)
    env = {name: from_file.get(name, "") for name in names}
    check(env.get("SMS_ENV") == "production", "sms.env.example must say SMS_ENV=production")
    filled = {
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
        "SMS_FIELD_ENCRYPTION_KEY": secrets.token_urlsafe(32),
        "POSTGRES_PASSWORD": "unused-here",
        "PGBACKREST_REPO1_CIPHER_PASS": "unused-here",
        "EMAIL_HOST_USER": "",
        "EMAIL_HOST_PASSWORD": "",
        "SENTRY_DSN": "",
    }
    for name, value in env.items():
        if not value and name in filled:
            env[name] = filled[name]
    # What this machine changes: its own host names, database, Redis and files.
    env.update(
        SMS_BASE_DOMAIN=BASE,
        DATABASE_URL=database_url,
        REDIS_URL=f"redis://127.0.0.1:6379/{redis_db}",
        CELERY_BROKER_URL=f"redis://127.0.0.1:6379/{redis_db + 1}",
        SMS_MEDIA_ROOT=str(WORK / "media"),
        # The example's path (/etc/sms/...) is a server's; a throwaway key here.
        SMS_LEDGER_SIGNING_KEY_FILE=ledger_key_file(),
        # No SMTP relay here: e-mails go to the worker's log.
        DJANGO_EMAIL_BACKEND="django.core.mail.backends.console.EmailBackend",
    )
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SMS_", "DJANGO_"))}
    for name in ("DATABASE_URL", "DATABASE_OWNER_URL", "REDIS_URL", "CELERY_BROKER_URL"):
        base.pop(name, None)
    return {**base, **env}


# --- Bring it up ------------------------------------------------------------------------------


def local_server() -> str:
    """The server ./sms uses without DATABASE_URL: 127.0.0.1:5432, or else the
    project-local cluster (var/pgdata, its port and var/pgpassword)."""
    with socket.socket() as s:
        s.settimeout(2)
        if s.connect_ex(("127.0.0.1", 5432)) == 0:
            return "postgres://postgres@127.0.0.1:5432/postgres"
    conf = ROOT / "var" / "pgdata" / "postgresql.conf"
    ports = re.findall(r"^port = (\d+)", conf.read_text(), re.M) if conf.exists() else []
    check(ports, "no PostgreSQL on 127.0.0.1:5432 nor in var/pgdata: set DATABASE_URL")
    password = (ROOT / "var" / "pgpassword").read_text().strip()
    return f"postgres://postgres:{password}@127.0.0.1:{ports[-1]}/postgres"


def database(env_url: str | None) -> tuple[str, str]:
    """A fresh database and its two roles, as deploy/README.md ("Database
    roles") makes them: the application's (web, worker, beat) and the owner
    (migrations, provisioning). Returns their URLs."""
    server = env_url or local_server()
    parts = urllib.parse.urlsplit(server)
    admin = urllib.parse.urlunsplit(parts._replace(path="/postgres"))
    script = (
        "import sys, psycopg\n"
        "with psycopg.connect(sys.argv[1], autocommit=True) as c:\n"
        "    c.execute('DROP DATABASE IF EXISTS ' + sys.argv[2] + ' WITH (FORCE)')\n"
        "    c.execute('CREATE DATABASE ' + sys.argv[2])\n"
    )
    run([PY, "-c", script, admin, DB_NAME])
    host = f"{parts.hostname}:{parts.port or 5432}"
    app, owner = (
        f"postgres://{DB_NAME}_{kind}:{secrets.token_hex(16)}@{host}/{DB_NAME}"
        for kind in ("app", "owner")
    )
    run(
        [PY, "scripts/dbtool.py", "roles"],
        env={
            **os.environ,
            "SMS_DB_ADMIN_URL": admin,
            "DATABASE_URL": app,
            "DATABASE_OWNER_URL": owner,
        },
    )
    return app, owner


def start(name: str, args, env) -> subprocess.Popen:
    log = open(WORK / "log" / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen(
        args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    processes.append(process)
    return process


def nginx_conf(app_port: int, https_port: int, http_port: int, cert: Path, key: Path) -> Path:
    site = (ROOT / "deploy" / "nginx.conf").read_text()
    site = site.replace("${SMS_BASE_DOMAIN}", BASE).replace(
        "${SMS_UPSTREAM}", f"127.0.0.1:{app_port}"
    )
    # Only the listening ports (no IPv6 here) and the certificate paths change.
    site = re.sub(r"^\s*listen \[::\].*\n", "", site, flags=re.M)
    site = re.sub(r"listen 443 ", f"listen 127.0.0.1:{https_port} ", site)
    site = re.sub(r"listen 80([ ;])", rf"listen 127.0.0.1:{http_port}\1", site)
    site = site.replace("/etc/nginx/certs/fullchain.pem", str(cert))
    site = site.replace("/etc/nginx/certs/privkey.pem", str(key))
    site = site.replace("/var/www/acme", str(WORK / "acme"))
    (WORK / "sms.conf").write_text(site)
    main = WORK / "nginx.conf"
    main.write_text(
        f"""daemon off;
worker_processes 1;
pid {WORK}/nginx.pid;
error_log {WORK}/log/nginx-error.log warn;
events {{ worker_connections 256; }}
http {{
    include /etc/nginx/mime.types;
    access_log {WORK}/log/nginx-access.log;
    client_body_temp_path {WORK}/nginx-tmp/body;
    proxy_temp_path {WORK}/nginx-tmp/proxy;
    fastcgi_temp_path {WORK}/nginx-tmp/fastcgi;
    uwsgi_temp_path {WORK}/nginx-tmp/uwsgi;
    scgi_temp_path {WORK}/nginx-tmp/scgi;
    include {WORK}/sms.conf;
}}
"""
    )
    return main


def bring_up() -> tuple[dict, int]:
    if WORK.exists():
        shutil.rmtree(WORK)
    for sub in ("log", "media", "nginx-tmp", "acme"):
        (WORK / sub).mkdir(parents=True, exist_ok=True)
    ensure_tools()
    if subprocess.run(["redis-cli", "-h", "127.0.0.1", "ping"], capture_output=True).returncode:
        say("Starting Redis")
        run(["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "--port", "6379",
             "--save", "", "--appendonly", "no"])  # fmt: skip
    _, cert, key = certificate()
    say(f"Fresh database {DB_NAME} and its two roles")
    app_url, owner_url = database(os.environ.get("DATABASE_URL"))
    env = environment(app_url, redis_db=int(os.environ.get("PROD_CHECK_REDIS_DB", "8")))
    # Only the commands that migrate or provision get the owner's address.
    as_owner = {**env, "DATABASE_OWNER_URL": owner_url}
    run(
        [
            PY,
            "-c",
            "import redis,sys; r=redis.Redis.from_url(sys.argv[1]); r.flushdb()",
            env["REDIS_URL"],
        ]
    )
    run(
        [
            PY,
            "-c",
            "import redis,sys; r=redis.Redis.from_url(sys.argv[1]); r.flushdb()",
            env["CELERY_BROKER_URL"],
        ]
    )

    say("check --deploy with the production settings")
    # As written (SMTP mail), before the test-only console mail below.
    as_written = {k: v for k, v in env.items() if k != "DJANGO_EMAIL_BACKEND"}
    run([PY, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], env=as_written)
    say("migrate_schemas, compilemessages, collectstatic, the demo country (XD)")
    run([PY, "manage.py", "migrate_schemas", "--executor=multiprocessing", "-v", "0"], env=as_owner)
    run([PY, "manage.py", "compilemessages", "-v", "0"], env=env)
    run([PY, "manage.py", "collectstatic", "--noinput", "-v", "0"], env=env)
    run([PY, "manage.py", "demo_setup"], env=as_owner)

    app_port, https_port, http_port = free_port(), free_port(), free_port()
    env["SMS_BIND"] = f"127.0.0.1:{app_port}"
    env["WEB_CONCURRENCY"] = "2"
    say(
        f"gunicorn on 127.0.0.1:{app_port}, Celery worker and beat, nginx on 127.0.0.1:{https_port}"
    )
    start("gunicorn", [str(VENV / "bin" / "gunicorn"), "sms_platform.wsgi:application",
                       "--config", "deploy/gunicorn.conf.py"], env)  # fmt: skip
    start("celery-worker", [str(VENV / "bin" / "celery"), "-A", "sms_platform", "worker",
                            "--loglevel=INFO", "--concurrency=1"], env)  # fmt: skip
    start("celery-beat", [str(VENV / "bin" / "celery"), "-A", "sms_platform", "beat",
                          "--loglevel=INFO", f"--schedule={WORK}/celerybeat-schedule",
                          f"--pidfile={WORK}/celerybeat.pid"], env)  # fmt: skip
    conf = nginx_conf(app_port, https_port, http_port, cert, key)
    run(["/usr/sbin/nginx", "-t", "-c", conf])
    start("nginx", ["/usr/sbin/nginx", "-c", str(conf)], env)
    return env, https_port


def tear_down() -> None:
    for process in reversed(processes):
        if process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    for process in processes:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


# --- Drive it ---------------------------------------------------------------------------------


class Forms(html.parser.HTMLParser):
    """The forms of a page: action, method and their fields' default values."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self._select = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append(
                {
                    "action": a.get("action") or "",
                    "method": (a.get("method") or "get").lower(),
                    "fields": {},
                    "names": [],
                }
            )
        elif not self.forms:
            return
        form = self.forms[-1] if self.forms else None
        if tag == "input" and a.get("name"):
            kind = (a.get("type") or "text").lower()
            form["names"].append(a["name"])
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    form["fields"][a["name"]] = a.get("value", "on")
            elif kind not in ("submit", "button", "file", "image"):
                form["fields"][a["name"]] = a.get("value", "")
        elif tag == "textarea" and a.get("name"):
            form["fields"][a["name"]] = ""
            form["names"].append(a["name"])
        elif tag == "select" and a.get("name"):
            self._select = a["name"]
            form["names"].append(a["name"])
            form["fields"].setdefault(a["name"], None)
        elif tag == "option" and self._select:
            if form["fields"].get(self._select) is None or "selected" in a:
                form["fields"][self._select] = a.get("value", "")

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None


def form_on(page: str, predicate) -> dict:
    parser = Forms()
    parser.feed(page)
    for form in parser.forms:
        if predicate(form):
            return form
    raise Failed("no such form on the page")


_getaddrinfo = socket.getaddrinfo


def resolve_base_here(host, *args, **kwargs):
    """BASE and its sub-domains are this machine (no DNS for them here)."""
    if isinstance(host, str) and (host == BASE or host.endswith("." + BASE)):
        host = "127.0.0.1"
    return _getaddrinfo(host, *args, **kwargs)


class Client:
    def __init__(self, https_port: int, cafile: Path):
        import requests

        socket.getaddrinfo = resolve_base_here

        self.port = https_port
        self.session = requests.Session()
        self.cafile = str(cafile)

    def url(self, host: str, path: str) -> str:
        return f"https://{host}:{self.port}{path}"

    def request(self, method, host, path, **kwargs):
        # Django compares Referer with the Host nginx passes ($host, no port).
        headers = {"Referer": f"https://{host}/"}
        response = self.session.request(
            method, self.url(host, path), headers=headers, allow_redirects=False,
            timeout=min(60, left()), verify=self.cafile, **kwargs,
        )  # fmt: skip
        return response

    def follow(self, method, host, path, **kwargs):
        response = self.request(method, host, path, **kwargs)
        for _ in range(10):
            if response.status_code not in (301, 302, 303):
                return response
            location = urllib.parse.urlsplit(response.headers["Location"])
            check(location.netloc in ("", host), f"redirected off the host: {location.geturl()}")
            target = location.path + (f"?{location.query}" if location.query else "")
            response = self.request("GET", host, target)
        raise Failed("too many redirects")

    def submit(self, host, path, predicate, values: dict, files=None, expect=200):
        page = self.follow("GET", host, path)
        check(page.status_code == 200, f"GET {path}: {page.status_code}")
        form = form_on(page.text, predicate)
        data = {k: v for k, v in form["fields"].items() if v is not None}
        data.update(values)
        action = form["action"] or path
        if action.startswith("http"):
            action = urllib.parse.urlsplit(action).path
        if form["method"] == "get":
            response = self.follow("GET", host, action, params=data)
        else:
            response = self.follow("POST", host, action, data=data, files=files)
        check(
            response.status_code == expect,
            f"POST {action}: {response.status_code}\n{response.text[:2000]}",
        )
        return response


def setup_data(env) -> dict:
    """A TOTP device for XD's administrator and a transfer on its way to the
    north store, made through the services as an officer would."""
    code = r"""
import json, secrets
from django_tenants.utils import schema_context
from django_otp.plugins.otp_totp.models import TOTPDevice
from accounts.models import User
from stock.models import Site, ItemType, StockItem
from stock import services as stock_services
from custody import services as custody_services

with schema_context("xd"):
    key = secrets.token_hex(20)
    for name in ("store.north", "hq"):
        user = User.objects.get(username=name)
        TOTPDevice.objects.filter(user=user).delete()
        TOTPDevice.objects.create(user=user, name="prod-check", key=key, confirmed=True)
    sender = User.objects.get(username="store.capital")
    origin = Site.objects.get(code="hq-strongroom")
    destination = Site.objects.get(code="north-store")
    item_type = ItemType.objects.filter(whole=True).first() or ItemType.objects.first()
    item = stock_services.item_register(
        actor=sender, site=origin, item_type=item_type,
        data={"weight_kg": "12.500", "source": "seizure"},
    )
    transfer = custody_services.transfer_create(
        actor=sender, origin=origin, destination=destination, items=[item],
        reason="prod check", authority_reference="PC-1",
    )
    custody_services.transfer_dispatch(
        actor=sender, transfer=transfer, seal_numbers="S-1", courier="Courier",
        dispatching_officer="Officer",
    )
    print(json.dumps({"key": key, "transfer": transfer.pk, "item": item.pk,
                      "site": destination.pk, "item_type": item_type.pk}, default=str))
"""
    out = run([PY, "manage.py", "shell", "-c", code], env=env)
    return json.loads(out.strip().splitlines()[-1])


def totp(key_hex: str) -> str:
    from django_otp.oath import TOTP

    return f"{TOTP(bytes.fromhex(key_hex)).token():06d}"


def sign_in(client, host: str, username: str, password: str, key: str) -> None:
    response = client.submit(
        host, "/accounts/login/", lambda f: "password" in f["names"],
        {"login": username, "password": password},
    )  # fmt: skip
    # A user with an authenticator is always asked for its code.
    check("/accounts/2fa/code/" in response.url, f"{username}: no 2FA step ({response.url})")
    form = form_on(response.text, lambda f: "code" in f["names"])
    values = {k: v for k, v in form["fields"].items() if v is not None}
    values["code"] = totp(key)
    response = client.follow("POST", host, "/accounts/2fa/code/", data=values)
    check(response.status_code == 200, f"{username}: 2FA step {response.status_code}")
    check("/accounts/" not in urllib.parse.urlsplit(response.url).path,
          f"{username}: still signing in at {response.url}")  # fmt: skip
    cookies = list(client.session.cookies)
    check(cookies and all(c.secure for c in cookies), "a cookie without Secure")
    say(f"{username} signed in with a TOTP code")


def health(client) -> dict:
    response = client.request("GET", BASE, "/health/")
    return response.status_code, response.json()


def drive(env, https_port: int) -> None:
    client = Client(https_port, WORK / "certs" / "ca.pem")
    xd = f"xd.{BASE}"

    say("Waiting for /health/ (gunicorn, nginx and a Celery worker up)")
    status, body = None, None
    waited_until = min(DEADLINE - 60, time.monotonic() + 120)
    while time.monotonic() < waited_until:
        try:
            status, body = health(client)
            if status == 200 and body["checks"].get("celery") == "ok":
                break
        except Exception as error:  # noqa: BLE001 - not up yet
            body = repr(error)
        time.sleep(2)
    check(status == 200, f"/health/ never answered 200: {status} {body}")
    check(body["checks"] == {"database": "ok", "cache": "ok", "storage": "ok", "celery": "ok",
                             "backup": "unknown"}, f"/health/: {body}")  # fmt: skip
    say(f"/health/: {body}")
    plain = client.session.get(f"http://{BASE}:{https_port}/", timeout=10)
    check(plain.status_code == 400, "plain HTTP on the HTTPS port is refused")

    data = setup_data(env)

    say("Sign in as the north store's manager: password, then the TOTP code")
    sign_in(client, xd, "store.north", "demo-store-pass", data["key"])
    say("Register an item with a photo")
    from io import BytesIO

    from PIL import Image

    photo = BytesIO()
    Image.new("RGB", (64, 48), (190, 170, 120)).save(photo, "PNG")
    page = client.submit(xd, "/items/new/", lambda f: "item_type" in f["names"],
                         {"site": str(data["site"]), "item_type": str(data["item_type"])})  # fmt: skip
    form = form_on(page.text, lambda f: "weight_kg" in f["names"])
    values = {k: v for k, v in form["fields"].items() if v is not None}
    values.update(weight_kg="23.450", source="seizure", case_reference="PC-PHOTO")
    response = client.follow("POST", xd, urllib.parse.urlsplit(form["action"]).path or "/items/new/",
                             data=values, files={"photos": ("tusk.png", photo.getvalue(), "image/png")})  # fmt: skip
    check(response.status_code == 200 and "is registered" in response.text,
          f"registration: {response.status_code} {response.text[:1500]}")  # fmt: skip
    photo_path = re.search(r"src=\"(/(?:[^\"]*/)?photos/[^\"]+)\"", response.text)
    check(photo_path, "no photo on the item page")
    image = client.request("GET", xd, photo_path.group(1).replace("&amp;", "&"))
    check(image.status_code == 200 and image.headers["Content-Type"].startswith("image/"),
          f"photo: {image.status_code}")  # fmt: skip

    say("Receive the transfer")
    transfer = f"/transfers/{data['transfer']}/"
    item = data["item"]
    response = client.submit(
        xd, transfer, lambda f: f["action"].endswith("/receive/"),
        {f"outcome_{item}": "arrived", f"weight_{item}": "12.500", f"seal_{item}": "on"},
    )  # fmt: skip
    check("Receipt recorded." in response.text, f"transfer not received: {response.text[:1500]}")

    say("Sign in as the HQ officer (2FA too) and export a CITES declaration through Celery")
    client = Client(https_port, WORK / "certs" / "ca.pem")
    sign_in(client, xd, "hq", "demo-hq-pass", data["key"])
    response = client.submit(
        xd, "/reports/cites/", lambda f: f["action"].endswith("/export/"), {"format": "csv"}
    )
    run_path = urllib.parse.urlsplit(response.url).path
    check(re.search(r"/reports/generated/\d+/$", run_path), f"no generated report page: {run_path}")
    download = run_path + "download/"
    while True:
        left()
        got = client.request("GET", xd, download)
        if got.status_code == 200:
            break
        time.sleep(2)
    check(len(got.content) > 100, "empty declaration")
    say(f"Declaration downloaded: {got.headers.get('Content-Type')}, {len(got.content)} bytes")

    status, body = health(client)
    check(status == 200, f"/health/ at the end: {status} {body}")

    say("The restore drill of the demo country (export, scratch database, checks, drop)")
    # The drill's scratch database needs a role with CREATEDB: here the
    # server's administrator stands for the drill's own role (deploy/README).
    server = urllib.parse.urlsplit(os.environ.get("DATABASE_URL") or local_server())
    drill_env = {
        **env,
        "SMS_RESTORE_DRILL_DATABASE_URL": urllib.parse.urlunsplit(
            server._replace(path="/postgres")
        ),
        "SMS_EXPORT_DIR": str(WORK / "exports"),
    }
    out = run(
        [PY, "manage.py", "restore_drill", "--country", "XD", "--no-email"],
        env=drill_env,
        timeout=max(60, left() - 30),
    )
    check("Passed" in out, f"the restore drill of XD did not pass: {out[-2000:]}")
    say(out.strip().splitlines()[0])


def main() -> int:
    started = time.monotonic()
    status = 1
    try:
        env, https_port = bring_up()
        drive(env, https_port)
        status = 0
    except (Failed, subprocess.TimeoutExpired) as error:
        print(f"prod_check: {error}", file=sys.stderr)
        for name in ("gunicorn", "celery-worker", "nginx-error"):
            log = WORK / "log" / f"{name}.log"
            if log.exists():
                print(f"--- {log} (end)", file=sys.stderr)
                print(log.read_text(errors="replace")[-2500:], file=sys.stderr)
    finally:
        tear_down()
    took = time.monotonic() - started
    print(f"prod_check: {'PASS' if status == 0 else 'FAIL'} ({took:.0f} s)", flush=True)
    return status


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    sys.exit(main())
