"""The ODK Central address: https only (plain http to this machine in
development only), no internal address in production, credentials that never
follow a redirect to another address, and a new address that asks for the
passwords again."""

import json
import threading
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from django.core.exceptions import ValidationError

from odk import crypto, services
from odk.central import CENTRAL_ERRORS, CentralUnavailable, checked_address, client_for
from odk.models import CentralConnection
from tests.factories import DEFAULT_PASSWORD

from .fake_central import PASSWORD, USERNAME

TOKEN = "token-of-the-central-session"


@pytest.fixture
def production_rules(settings):
    """The address rules of production settings (SMS_ENV=production)."""
    settings.SMS_ODK_LOCAL_HTTP = False
    settings.SMS_ODK_REFUSE_INTERNAL = True
    settings.SMS_ODK_INTERNAL_HOSTS = []
    return settings


# --- The rules ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("https://central.example.org", "https://central.example.org"),
        ("https://central.example.org/v1/", "https://central.example.org"),
        (" https://central.example.org:8443/odk/ ", "https://central.example.org:8443/odk"),
        ("http://127.0.0.1:8383", "http://127.0.0.1:8383"),
        ("http://localhost:8383/v1", "http://localhost:8383"),
    ],
)
def test_development_accepts_https_and_plain_http_to_this_machine(typed, stored):
    assert checked_address(typed) == stored


@pytest.mark.parametrize(
    "url",
    [
        "http://central.example.org",  # the password would travel in clear
        "http://10.0.0.5",
        "http://127.0.0.1.example.org",
        "ftp://central.example.org",
        "central.example.org",
        "https://",
        "https://sms:secret@central.example.org",
        "https://central.example.org/?next=elsewhere",
        "https://central.example.org:port",
    ],
)
def test_development_refuses_http_elsewhere_and_odd_addresses(url):
    with pytest.raises(ValidationError):
        checked_address(url)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8383",
        "http://localhost:8383",
        "https://127.0.0.1",
        "https://localhost",
        "https://[::1]",
        "https://10.1.2.3",
        "https://192.168.0.10",
        "https://172.16.5.4",
        "https://169.254.169.254",  # a cloud's metadata service
        "https://0.0.0.0",
        "https://[fd00::1]",
        "https://2130706433",  # 127.0.0.1 written as one number
        "https://[::ffff:127.0.0.1]",
        # IPv6 forms that carry an IPv4 address inside: judged by that address.
        "https://[::127.0.0.1]",  # IPv4-compatible
        "https://[::10.0.0.1]",
        "https://[64:ff9b::7f00:1]",  # NAT64 of 127.0.0.1
        "https://[64:ff9b::a9fe:a9fe]",  # NAT64 of 169.254.169.254
        "https://[2002:7f00:1::1]",  # 6to4 of 127.0.0.1
        "https://[2002:c0a8:a::1]",  # 6to4 of 192.168.0.10
        "https://[2001:0:4136:e378:8000:63bf:80ff:fffe]",  # Teredo
        "https://[::ffff:0:7f00:1]",  # IPv4-translated 127.0.0.1
        "https://[::ffff:0:a9fe:a9fe]",  # IPv4-translated 169.254.169.254
        "https://[64:ff9b:1::7f00:1]",  # local-use NAT64 of 127.0.0.1
        # IPv6 outside global unicast, or reserved inside it.
        "https://[5f00::1]",  # segment-routing SIDs
        "https://[3fff::1]",  # documentation
    ],
)
def test_production_refuses_plain_http_and_internal_addresses(production_rules, url):
    with pytest.raises(ValidationError):
        checked_address(url)


def test_production_accepts_a_public_https_address_and_hosts_the_operator_lists(
    production_rules,
):
    assert checked_address("https://93.184.215.14") == "https://93.184.215.14"
    # IPv6 that embeds a public IPv4 address, or none, is judged as such.
    assert checked_address("https://[64:ff9b::5db8:d70e]") == "https://[64:ff9b::5db8:d70e]"
    assert checked_address("https://[2606:4700:4700::1111]") == "https://[2606:4700:4700::1111]"
    production_rules.SMS_ODK_INTERNAL_HOSTS = ["10.1.2.3"]
    assert checked_address("https://10.1.2.3/") == "https://10.1.2.3"
    # Listing a host never opens plain http.
    with pytest.raises(ValidationError):
        checked_address("http://10.1.2.3")


def test_an_address_stored_before_the_rules_is_never_used(production_rules):
    connection = CentralConnection(
        base_url="http://central.example.org",
        username=USERNAME,
        password_encrypted=crypto.encrypt(PASSWORD),
        project_id=1,
    )
    with pytest.raises(CentralUnavailable, match="https://"):
        client_for(connection)


# --- Redirects ---------------------------------------------------------------------------


class _Server:
    """A WSGI app served over HTTP on 127.0.0.1 from a thread, recording requests."""

    def __init__(self, app):
        self.app = app
        self.seen: list[dict] = []

    def __enter__(self):
        class Server(ThreadingMixIn, WSGIServer):
            daemon_threads = True

        class Quiet(WSGIRequestHandler):
            def log_message(self, *args):
                pass

        def recording(environ, start_response):
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length) if length else b""
            self.seen.append(
                {
                    "method": environ["REQUEST_METHOD"],
                    "path": environ["PATH_INFO"],
                    "authorization": environ.get("HTTP_AUTHORIZATION"),
                    "body": body,
                }
            )
            return self.app(environ, start_response)

        self.server = make_server(
            "127.0.0.1", 0, recording, server_class=Server, handler_class=Quiet
        )
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def _storage(environ, start_response):
    start_response("200 OK", [("Content-Type", "image/jpeg")])
    return [b"photo bytes"]


def _central_redirecting_to(target: str, *, sessions_too: bool = False):
    def app(environ, start_response):
        path = environ["PATH_INFO"]
        if path == "/v1/sessions" and not sessions_too:
            start_response("200 OK", [("Content-Type", "application/json")])
            return [json.dumps({"token": TOKEN}).encode()]
        if path == "/v1/users/current":
            start_response("200 OK", [("Content-Type", "application/json")])
            return [b"{}"]
        # Central with S3 storage: an attachment answers 307 to a presigned URL.
        start_response("307 Temporary Redirect", [("Location", f"{target}{path}?sig=1")])
        return [b""]

    return app


def _connection(url: str) -> CentralConnection:
    return CentralConnection(
        base_url=url,
        username=USERNAME,
        password_encrypted=crypto.encrypt(PASSWORD),
        project_id=1,
    )


ATTACHMENT = "projects/1/forms/f/submissions/uuid:1/attachments/1.jpg"


@pytest.mark.parametrize("storage_host", ["127.0.0.1", "localhost"])
def test_a_download_redirected_elsewhere_arrives_without_centrals_token(storage_host):
    with _Server(_storage) as storage:
        target = f"http://{storage_host}:{storage.port}"
        with _Server(_central_redirecting_to(target)) as central:
            client = client_for(_connection(f"http://127.0.0.1:{central.port}"))
            response = client.get(ATTACHMENT, stream=True)
            assert response.status_code == 200
            assert b"".join(response.iter_content()) == b"photo bytes"
    # Central itself got the token; the other address got the request, and no token.
    assert [r["authorization"] for r in central.seen if r["path"].endswith("1.jpg")] == [
        f"Bearer {TOKEN}"
    ]
    assert [(r["method"], r["authorization"]) for r in storage.seen] == [("GET", None)]


def test_a_redirected_sign_in_never_sends_the_password_elsewhere():
    with _Server(_storage) as elsewhere:
        target = f"http://127.0.0.1:{elsewhere.port}"
        with _Server(_central_redirecting_to(target, sessions_too=True)) as central:
            client = client_for(_connection(f"http://127.0.0.1:{central.port}"))
            with pytest.raises(CENTRAL_ERRORS, match="another address"):
                client.get("projects/1")
    assert [r["path"] for r in central.seen] == ["/v1/sessions"]
    assert elsewhere.seen == []


def test_a_redirected_write_is_not_followed_elsewhere():
    with _Server(_storage) as elsewhere:
        target = f"http://127.0.0.1:{elsewhere.port}"
        with _Server(_central_redirecting_to(target)) as central:
            client = client_for(_connection(f"http://127.0.0.1:{central.port}"))
            with pytest.raises(CENTRAL_ERRORS):
                client.post("projects", json={"name": "Stock"})
    assert elsewhere.seen == []


def test_a_download_is_not_redirected_to_an_internal_listener_in_production(production_rules):
    # Central itself is one the operator listed; where it redirects is not.
    production_rules.SMS_ODK_INTERNAL_HOSTS = ["127.0.0.1"]
    production_rules.SMS_ODK_LOCAL_HTTP = True  # the test's servers speak plain http
    with _Server(_storage) as listener:
        target = f"http://localhost:{listener.port}"
        with _Server(_central_redirecting_to(target)) as central:
            client = client_for(_connection(f"http://127.0.0.1:{central.port}"))
            with pytest.raises(CENTRAL_ERRORS, match="may not reach"):
                client.get(ATTACHMENT)
    assert listener.seen == []


def test_no_token_cache_is_written_to_the_home_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("PYODK_CACHE_FILE", raising=False)
    monkeypatch.delenv("PYODK_CONFIG_FILE", raising=False)
    with _Server(_storage) as storage:
        target = f"http://127.0.0.1:{storage.port}"
        with _Server(_central_redirecting_to(target)) as central:
            client_for(_connection(f"http://127.0.0.1:{central.port}")).get(ATTACHMENT)
    assert list(tmp_path.iterdir()) == []


# --- Changing the address ---------------------------------------------------------------


@pytest.mark.django_db
def test_a_new_address_needs_the_administrators_own_password(reg):
    with pytest.raises(ValidationError) as caught:
        services.connection_save(
            actor=reg.admin,
            base_url="https://central.example.org",
            username=USERNAME,
            password=PASSWORD,
            current_password="not-my-password",
        )
    assert set(caught.value.message_dict) == {"current_password"}
    assert not CentralConnection.objects.exists()
    services.connection_save(
        actor=reg.admin,
        base_url="https://central.example.org",
        username=USERNAME,
        password=PASSWORD,
        current_password=DEFAULT_PASSWORD,
    )
    assert CentralConnection.objects.get().base_url == "https://central.example.org"


@pytest.mark.django_db
def test_changing_the_address_asks_for_both_passwords_again(reg):
    services.connection_save(
        actor=reg.admin,
        base_url="https://central.example.org",
        username=USERNAME,
        password=PASSWORD,
        current_password=DEFAULT_PASSWORD,
    )
    stored = CentralConnection.objects.get().password_encrypted
    # The same address: the stored Central password is kept, nothing more asked.
    services.connection_save(
        actor=reg.admin, base_url="https://central.example.org/v1", username=USERNAME
    )
    # Another address, with the stored Central password and no SMS password:
    # refused, and the stored password never goes to the new address.
    with pytest.raises(ValidationError) as caught:
        services.connection_save(
            actor=reg.admin, base_url="https://attacker.example.net", username=USERNAME
        )
    assert set(caught.value.message_dict) == {"password", "current_password"}
    with pytest.raises(ValidationError) as caught:
        services.connection_save(
            actor=reg.admin,
            base_url="https://attacker.example.net",
            username=USERNAME,
            current_password=DEFAULT_PASSWORD,
        )
    assert set(caught.value.message_dict) == {"password"}
    conn = CentralConnection.objects.get()
    assert conn.base_url == "https://central.example.org"
    assert conn.password_encrypted == stored


@pytest.mark.django_db
def test_the_connection_page_asks_for_the_password_when_the_address_changes(reg, client, host_a):
    client.force_login(reg.admin)
    client.defaults["HTTP_HOST"] = host_a
    page = client.get("/odk/connection/")
    assert 'name="current_password"' in page.text
    response = client.post(
        "/odk/connection/",
        {"base_url": "http://central.example.org", "username": USERNAME, "password": "x"},
    )
    assert response.status_code == 200
    assert "https://" in response.text
    assert "Enter your own SMS password" in response.text
    assert not CentralConnection.objects.exists()


@pytest.mark.django_db
def test_a_store_manager_cannot_set_the_address(reg):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.connection_save(
            actor=reg.manager_x,
            base_url="https://central.example.org",
            username=USERNAME,
            password=PASSWORD,
            current_password=DEFAULT_PASSWORD,
        )


# --- Scope is a ceiling: the connection serves every store -----------------------------


@pytest.mark.django_db
def test_a_one_store_administrator_cannot_point_central_elsewhere(reg, fake, client, host_a):
    """Central receives the whole register (the items list of every store) and
    SMS takes in what it sends: an administrator of one store must not aim it
    at a server of their own (issue 11's probe, pen test of 30 Nov)."""
    from accounts.roles import SMS_ADMINISTRATOR
    from tests.factories import make_user

    services.connection_save(
        actor=reg.admin,
        base_url="https://central.example.org",
        username=USERNAME,
        password=PASSWORD,
        current_password=DEFAULT_PASSWORD,
    )
    one_store = make_user(role=SMS_ADMINISTRATOR, sites=[reg.site_x])
    with pytest.raises(ValidationError):
        services.connection_save(
            actor=one_store,
            base_url=fake.url,
            username="me@attacker.example",
            password="their-own-central",
            current_password=DEFAULT_PASSWORD,
        )
    # Through the page as a browser would: refused, nothing changed.
    client.force_login(one_store)
    client.defaults["HTTP_HOST"] = host_a
    response = client.post(
        "/odk/connection/",
        {
            "base_url": fake.url,
            "username": "me@attacker.example",
            "password": "their-own-central",
            "current_password": DEFAULT_PASSWORD,
        },
    )
    assert response.status_code == 200
    assert "Only an administrator of all sites" in response.text
    conn = CentralConnection.objects.get()
    assert (conn.base_url, conn.username) == ("https://central.example.org", USERNAME)
    assert crypto.decrypt(conn.password_encrypted) == PASSWORD


@pytest.mark.django_db
def test_wrong_sms_passwords_on_the_connection_page_count_towards_the_lockout(reg):
    """The SMS password asked for a new address is no way round the lockout:
    wrong ones count like wrong sign-ins, and a locked account is refused."""
    from accounts import throttle

    for attempt in range(throttle.FAILURE_LIMIT):
        with pytest.raises(ValidationError) as caught:
            services.connection_save(
                actor=reg.admin,
                base_url="https://central.example.org",
                username=USERNAME,
                password=PASSWORD,
                current_password=f"guess-{attempt}",
            )
        assert set(caught.value.message_dict) == {"current_password"}
    assert throttle.passwords.is_locked(reg.admin)
    with pytest.raises(ValidationError) as caught:
        services.connection_save(
            actor=reg.admin,
            base_url="https://central.example.org",
            username=USERNAME,
            password=PASSWORD,
            current_password=DEFAULT_PASSWORD,
        )
    assert set(caught.value.message_dict) == {"current_password"}
    assert not CentralConnection.objects.exists()


@pytest.mark.parametrize("mode", ["localhost", "internal-https"])
def test_a_download_is_never_redirected_to_an_address_the_rules_refuse(settings, mode):
    """central_redirect_prod.py: in production, a GET redirect from Central was
    followed to localhost. Central here is the one internal host the operator
    listed; the redirect's target is not listed."""
    settings.SMS_ODK_REFUSE_INTERNAL = True
    settings.SMS_ODK_LOCAL_HTTP = True
    settings.SMS_ODK_INTERNAL_HOSTS = ["127.0.0.1"]
    with _Server(_storage) as storage:
        target = (
            f"http://localhost:{storage.port}" if mode == "localhost" else "https://10.255.0.1:9"
        )
        with _Server(_central_redirecting_to(target)) as central:
            client = client_for(_connection(f"http://127.0.0.1:{central.port}"))
            with pytest.raises(CENTRAL_ERRORS, match="may not reach"):
                client.get(ATTACHMENT, stream=True)
    assert storage.seen == []
    assert [r["path"] for r in central.seen if r["path"].endswith("1.jpg")]
