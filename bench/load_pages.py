"""Throughput of the stock pages in the production shape (issue 17, item 4).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sms_perf_bench \\
        .venv/bin/python bench/load_pages.py --clients 8 --seconds 20

Against a benchmark database that bench/stock_views.py has loaded (country
XZ and its bench users; run that first, with the same DATABASE_URL, a role
that may create roles), on this machine:

1. gives the database its two roles as production has them
   (scripts/dbtool.py roles: the owner and the application's role, which
   owns nothing and is what the web processes log in as), and migrates as
   the owner (which grants the application its privileges);
2. starts a Redis of its own on a free port (the cache and the sessions'
   cache, as in production) and gunicorn with deploy/gunicorn.conf.py and
   the production settings: deploy/sms.env.example with its empty values
   filled with test values, as scripts/prod_check.py does (SMS_ENV=production,
   a throwaway ledger signing key), on 127.0.0.1 — 3 sync workers unless
   WEB_CONCURRENCY says otherwise;
3. signs the bench users in (a session each, written through the session
   engine by a process with the same settings);
4. drives each page — the dashboard, the item list (unfiltered, and a store
   manager's filtered list), an item page — with --clients concurrent
   clients for --seconds, each request on a new connection as nginx's would
   be to a sync worker, as HTTPS behind the proxy (X-Forwarded-Proto);
5. prints requests/s, p50 and p95 and the errors (any answer but 200), and
   the CPU time each request cost the server — gunicorn's workers plus the
   PostgreSQL backends they use, read from /proc — then stops everything it
   started.

The clients run on the same two cores as the server: the figures are the
server's throughput with its load generator beside it. On a shared machine
requests/s and latencies say how busy the machine was; the CPU per request
does not (much): two cores give at most 2000 / (CPU ms per request)
requests/s.
"""

import argparse
import http.client
import json
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
PY = str(VENV / "bin" / "python")
WORK = ROOT / "var" / "load-pages"
HOST = "xz.localhost"  # the bench country's host (bench/stock_views.py, SMS_BASE_DOMAIN)

processes: list[subprocess.Popen] = []


def say(text: str) -> None:
    print(text, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(name: str, args, env) -> subprocess.Popen:
    log = open(WORK / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen(
        args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    processes.append(process)
    return process


def stop_all() -> None:
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


# --- the production shape --------------------------------------------------------------


def roles(admin_url: str) -> tuple[str, str]:
    """The two roles of the bench database (made or updated by
    scripts/dbtool.py roles); returns the application's URL and the owner's."""
    parts = urllib.parse.urlsplit(admin_url)
    name = parts.path.lstrip("/")
    host = f"{parts.hostname}:{parts.port or 5432}"
    app, owner = (
        f"postgres://{name}_{kind}:{secrets.token_hex(16)}@{host}/{name}"
        for kind in ("app", "owner")
    )
    maintenance = urllib.parse.urlunsplit(parts._replace(path="/postgres"))
    subprocess.run(
        [PY, "scripts/dbtool.py", "roles"],
        cwd=ROOT,
        env={
            **os.environ,
            "SMS_DB_ADMIN_URL": maintenance,
            "DATABASE_URL": app,
            "DATABASE_OWNER_URL": owner,
        },
        check=True,
    )
    return app, owner


def production_env(app_url: str, redis_port: int) -> dict[str, str]:
    sys.path.insert(0, str(ROOT / "scripts"))
    import prod_check  # the production check's own reading of sms.env.example

    env = prod_check.environment(app_url, redis_db=0)
    env.update(
        DJANGO_SETTINGS_MODULE="sms_platform.settings",
        SMS_BASE_DOMAIN="localhost",  # the bench countries' hosts (xz.localhost)
        REDIS_URL=f"redis://127.0.0.1:{redis_port}/0",
        CELERY_BROKER_URL=f"redis://127.0.0.1:{redis_port}/1",
        SMS_MEDIA_ROOT=str(WORK / "media"),
    )
    return env


PREPARE = r"""
import json, random, sys, time
import django
django.setup()
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from importlib import import_module
from django.db import connection
from django_tenants.utils import schema_context
from accounts.models import User
from administration.middleware import LAST_SEEN_KEY
from stock.models import ItemCategory, StockItem
from tenants.models import Country

country = Country.objects.get(code="XZ")
store = import_module(settings.SESSION_ENGINE).SessionStore
out = {"sessions": {}}
with schema_context(country.schema_name):
    for name in ("bench-hq", "bench-manager"):
        user = User.objects.get(username=name)
        session = store()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session[LAST_SEEN_KEY] = time.time()
        session.create()
        out["sessions"][name] = session.session_key
    out["ivory"] = ItemCategory.objects.get(kind="ivory").pk
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM stock_stockitem TABLESAMPLE SYSTEM (1) LIMIT 500")
        out["items"] = [str(row[0]) for row in cursor.fetchall()]
    random.Random(7).shuffle(out["items"])
out["cookie"] = settings.SESSION_COOKIE_NAME
print(json.dumps(out))
"""


def prepare(env) -> dict:
    done = subprocess.run(
        [PY, "-c", PREPARE], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    if done.returncode:
        raise SystemExit(f"preparing sessions failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def wait_ready(port: int, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            get(port, "/accounts/login/", {})  # any answer: it listens
            return
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit("gunicorn did not answer /health/ (see var/load-pages/gunicorn.log)")


# --- CPU spent, whatever else the machine runs ----------------------------------------

TICK_MS = 1000 / os.sysconf("SC_CLK_TCK")


def _ticks(pid: int, *, children: bool = False) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0
    # utime, stime (fields 14, 15), cutime, cstime (16, 17): 3rd.. after the name.
    own = int(fields[11]) + int(fields[12])
    return own + (int(fields[13]) + int(fields[14]) if children else 0)


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except FileNotFoundError:
        return []
    return [int(p) for p in text.split()]


def cpu_snapshot(master: int, admin_url: str, app_role: str) -> dict[str, int]:
    """CPU ticks so far of the gunicorn master and its workers (those
    recycled meanwhile in the master's children's time) and of the
    PostgreSQL backends of the application's role on this database."""
    import psycopg

    snap = {"gunicorn": _ticks(master, children=True)}
    snap["gunicorn"] += sum(_ticks(pid) for pid in _children(master))
    database = urllib.parse.urlsplit(admin_url).path.lstrip("/")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        pids = [
            row[0]
            for row in conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND usename = %s",
                [database, app_role],
            )
        ]
    for pid in pids:
        snap[f"pg{pid}"] = _ticks(pid)
    return snap


def cpu_ms(before: dict, after: dict) -> tuple[float, float]:
    """(gunicorn ms, PostgreSQL ms) spent between two snapshots."""
    web = (after["gunicorn"] - before["gunicorn"]) * TICK_MS
    database = sum(v - before.get(k, 0) for k, v in after.items() if k != "gunicorn")
    return web, database * TICK_MS


# --- the clients -------------------------------------------------------------------------


def get(port: int, path: str, headers: dict, *, host: str = HOST) -> tuple[int, int]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request(
            "GET",
            path,
            headers={
                "Host": host,
                "X-Forwarded-Proto": "https",
                "X-Forwarded-For": "127.0.0.1",
                **headers,
            },
        )
        response = connection.getresponse()
        body = response.read()
        return response.status, len(body)
    finally:
        connection.close()


def drive(port: int, paths: list[str], cookie: str, *, clients: int, seconds: float) -> dict:
    """``clients`` threads, each sending one request after another (a new
    connection each) for ``seconds``, cycling through ``paths``."""
    headers = {"Cookie": cookie}
    times: list[float] = []
    errors: dict = {}
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def client(n: int) -> None:
        i = n
        while time.monotonic() < stop_at:
            path = paths[i % len(paths)]
            i += clients
            started = time.perf_counter()
            try:
                status, _size = get(port, path, headers)
            except OSError as exc:
                status = type(exc).__name__
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                if status == 200:
                    times.append(elapsed)
                else:
                    errors[status] = errors.get(status, 0) + 1

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.monotonic() - started
    times.sort()
    return {
        "requests": len(times),
        "rate": len(times) / wall,
        "p50": statistics.median(times) if times else float("nan"),
        "p95": times[min(len(times) - 1, int(0.95 * len(times)))] if times else float("nan"),
        "errors": errors,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--warmup", type=float, default=3, help="seconds per page, not counted")
    parser.add_argument(
        "--pages", default="dashboard,list,list-manager,item", help="comma-separated, in order"
    )
    args = parser.parse_args()
    admin_url = os.environ.get("DATABASE_URL", "")
    if not admin_url or urllib.parse.urlsplit(admin_url).path.lstrip("/") in ("", "sms"):
        raise SystemExit("DATABASE_URL: the benchmark database bench/stock_views.py loaded")
    WORK.mkdir(parents=True, exist_ok=True)
    try:
        app_url, owner_url = roles(admin_url)
        redis_port = free_port()
        start(
            "redis",
            ["redis-server", "--bind", "127.0.0.1", "--port", str(redis_port), "--save", "",
             "--appendonly", "no"],
            os.environ.copy(),
        )  # fmt: skip
        env = production_env(app_url, redis_port)
        time.sleep(0.5)
        # As a deployment does after making the roles: migrate as the owner,
        # which grants the application its privileges in every schema.
        subprocess.run(
            [PY, "manage.py", "migrate_schemas", "--executor=multiprocessing", "-v", "0"],
            cwd=ROOT,
            env={**env, "DATABASE_OWNER_URL": owner_url},
            check=True,
        )
        subprocess.run(
            [PY, "manage.py", "collectstatic", "--noinput", "-v", "0"],
            cwd=ROOT,
            env=env,
            check=True,
        )
        data = prepare(env)
        port = free_port()
        workers = env.get("WEB_CONCURRENCY") or os.environ.get("WEB_CONCURRENCY") or "3"
        env.update(SMS_BIND=f"127.0.0.1:{port}", WEB_CONCURRENCY=workers)
        start(
            "gunicorn",
            [str(VENV / "bin" / "gunicorn"), "sms_platform.wsgi:application",
             "--config", "deploy/gunicorn.conf.py"],
            env,
        )  # fmt: skip
        wait_ready(port)
        master = processes[-1].pid
        app_role = urllib.parse.urlsplit(app_url).username
        cookie = data["cookie"]
        hq = f"{cookie}={data['sessions']['bench-hq']}"
        manager = f"{cookie}={data['sessions']['bench-manager']}"
        pages = {
            "dashboard": ("dashboard", "HQ officer", hq, ["/"]),
            "list": ("item list", "HQ officer", hq, ["/items/"]),
            "list-manager": (
                "item list, category+status",
                "store manager",
                manager,
                [f"/items/?category={data['ivory']}&status=in_stock"],
            ),
            "item": ("item page", "HQ officer", hq, [f"/items/{pk}/" for pk in data["items"]]),
        }
        load = os.getloadavg()
        say(
            f"gunicorn (deploy/gunicorn.conf.py, SMS_ENV=production) with {workers} sync workers,"
            f" {args.clients} clients, {args.seconds:g} s per page, {os.cpu_count()} CPUs;"
            f" load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
        )
        say(
            f"{'page':<28} {'user':<14} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} {'requests':>9}"
            f" {'CPU ms/req':>11} {'web+db':<11}  errors"
        )
        for name in args.pages.split(","):
            label, who, session, paths = pages[name]
            for path in paths[:1]:  # the page works at all, before it is timed
                status, _size = get(port, path, {"Cookie": session})
                if status != 200:
                    raise SystemExit(f"{path} as {who}: HTTP {status}")
            drive(port, paths, session, clients=args.clients, seconds=args.warmup)
            before = cpu_snapshot(master, admin_url, app_role)
            result = drive(port, paths, session, clients=args.clients, seconds=args.seconds)
            web, database = cpu_ms(before, cpu_snapshot(master, admin_url, app_role))
            count = max(1, result["requests"] + sum(result["errors"].values()))
            errors = ", ".join(f"{k}: {v}" for k, v in result["errors"].items()) or "0"
            say(
                f"{label:<28} {who:<14} {result['rate']:>7.1f} {result['p50']:>8.1f}"
                f" {result['p95']:>8.1f} {result['requests']:>9}"
                f" {(web + database) / count:>11.1f} {web / count:>5.1f}+{database / count:<5.1f}"
                f"  {errors}"
            )
        load = os.getloadavg()
        say(f"load average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    finally:
        stop_all()


if __name__ == "__main__":
    main()
