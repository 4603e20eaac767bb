"""Talking to the country's ODK Central through pyodk (no tables here).

A pyodk Client is built per task run (its token is never refreshed and
Central sessions last 24 h), with the configuration in memory and no token
cache on disk (``cache_path=None``). Every call passes the country's
``project_id`` explicitly.

The address rules (README, "ODK Central address"): ``https://`` only, plain
``http://`` only to this machine in development; in production no loopback,
private or link-local address unless the operator lists the host. They are
checked when the address is saved and again each time a client is built, so
an address stored before a rule existed is never used. Central's token and
password never follow a redirect to another origin: only a download (GET)
may be redirected there (Central sends attachments to a presigned storage
URL), and it goes without the token.
"""

import contextlib
import contextvars
import ipaddress
import socket
from urllib.parse import urljoin, urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from pyodk.client import Client
from pyodk.errors import PyODKError
from requests.adapters import HTTPAdapter
from requests.exceptions import RequestException
from urllib3.util import Retry

from core import compat

from . import crypto
from .models import CentralConnection

API_VERSION = "v1"
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


class CentralUnavailable(Exception):
    """Central could not be reached or answered with an error; str() says what,
    ``status`` the HTTP status when Central answered one."""

    def __init__(self, message: str = "", *, status: int | None = None):
        super().__init__(message)
        self.status = status


# What a failed call to Central raises: callers catch these together.
CENTRAL_ERRORS = (PyODKError, RequestException, CentralUnavailable)

# Set while a person waits for the answer (a button on the ODK page): one
# short try instead of the background's retries with back-off.
_interactive = contextvars.ContextVar("sms_odk_interactive", default=False)


@contextlib.contextmanager
def interactive():
    """Clients built inside use SMS_ODK_PAGE_TIMEOUT and no retry."""
    token = _interactive.set(True)
    try:
        yield
    finally:
        _interactive.reset(token)


def did_not_answer(exc: BaseException) -> bool:
    """Central was unreachable, too slow or failing (network, timeout, 5xx,
    429), as opposed to answering that something is wrong (401, 404…)."""
    if isinstance(exc, RequestException) and getattr(exc, "response", None) is None:
        return True
    status = getattr(exc, "status", None)
    if status is None and isinstance(exc, PyODKError) and len(exc.args) >= 2:
        status = getattr(exc.args[1], "status_code", None)
    if status is None and isinstance(exc, RequestException):
        status = getattr(exc.response, "status_code", None)
    if status is None:
        # pyodk wraps a failed connection in its own error, with the cause chained.
        cause = exc.__cause__ or exc.__context__
        return isinstance(cause, RequestException) and did_not_answer(cause)
    return status >= 500 or status == 429


# --- The address ------------------------------------------------------------------------


def checked_address(url: str) -> str:
    """The Central address as stored (no trailing ``/`` nor ``/v1``), or a
    ValidationError saying which rule it breaks."""
    url = (url or "").strip().rstrip("/")
    if url.endswith("/" + API_VERSION):
        url = url[: -len(API_VERSION) - 1]
    parts = urlsplit(url)
    try:
        host = (parts.hostname or "").lower()
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError:
        host = ""
    if parts.scheme.lower() not in ("https", "http") or not host:
        raise ValidationError(_("Enter the address of ODK Central, starting with https://."))
    if parts.username is not None or parts.password is not None or parts.query or parts.fragment:
        raise ValidationError(
            _("Enter only the address of ODK Central, without a user name, password or query.")
        )
    _address_rules(parts.scheme.lower(), host, parts.port)
    return url


def _address_rules(scheme: str, host: str, port: int | None) -> None:
    """The rules every address SMS sends a request to must pass: the
    configured one, and every hop of a redirect from it."""
    if scheme == "http" and not (settings.SMS_ODK_LOCAL_HTTP and host in LOCAL_HOSTS):
        raise ValidationError(
            _("ODK Central must be reached over https://, or its password would travel in clear.")
        )
    if scheme not in ("https", "http"):
        raise ValidationError(_("Enter the address of ODK Central, starting with https://."))
    if settings.SMS_ODK_REFUSE_INTERNAL and host not in settings.SMS_ODK_INTERNAL_HOSTS:
        _refuse_internal(host, port or (443 if scheme == "https" else 80))


def _embedded_ipv4(address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries, by the forms that reach it:
    IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d), NAT64
    (64:ff9b::/96), 6to4 (2002::/16) and Teredo (2001::/32, the client's)."""
    if address.version != 6:
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    value = int(address)
    if value >> 32 == 0 and value > 1:  # ::a.b.c.d, not :: nor ::1
        return ipaddress.IPv4Address(value & 0xFFFFFFFF)
    if value >> 32 == 0xFFFF0000:  # IPv4-translated, ::ffff:0:a.b.c.d
        return ipaddress.IPv4Address(value & 0xFFFFFFFF)
    if any(address in prefix for prefix in _NAT64):
        return ipaddress.IPv4Address(value & 0xFFFFFFFF)
    return None


# NAT64 prefixes whose last 32 bits are an IPv4 address: the well-known one
# and the local-use one (RFC 8215).
_NAT64 = (ipaddress.IPv6Network("64:ff9b::/96"), ipaddress.IPv6Network("64:ff9b:1::/48"))
# Only global unicast (2000::/3) reaches Central, less the ranges reserved
# there that Python's ipaddress does not know yet: documentation (RFC 9637)
# and segment-routing SIDs outside 2000::/3 are refused by the first test.
_GLOBAL_UNICAST = ipaddress.IPv6Network("2000::/3")
_NOT_GLOBAL_V6 = (ipaddress.IPv6Network("3fff::/20"),)


def address_is_public(address) -> bool:
    """A global address, and so is the IPv4 address it embeds, if any."""
    embedded = _embedded_ipv4(address)
    if address.version == 6 and embedded is None:
        if address not in _GLOBAL_UNICAST or any(address in n for n in _NOT_GLOBAL_V6):
            return False
    return address.is_global and (embedded is None or embedded.is_global)


def _refuse_internal(host: str, port: int) -> None:
    """Refuse a host that is, or resolves to, an address that is not public.

    Against an administrator pointing SMS (and Central's password) at a
    service inside the deployment's network. Checked on save and on every
    client; a DNS answer changed between the check and the request is not
    caught (README says so).
    """
    try:
        answers = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        raise ValidationError(
            _("No server answers to the name %(host)s. Check the address.") % {"host": host}
        ) from None
    for *_rest, sockaddr in answers:
        address = ipaddress.ip_address(sockaddr[0].split("%", 1)[0])
        if not address_is_public(address):
            raise ValidationError(
                _(
                    "%(host)s is an address inside a private network. Only the operator "
                    "of SMS can allow it (SMS_ODK_INTERNAL_HOSTS)."
                )
                % {"host": host}
            )


# --- The client ----------------------------------------------------------------------------


def _origin(url: str) -> tuple:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port or {"https": 443, "http": 80}.get(scheme)
    except ValueError:  # not a number: matches no origin of ours
        port = parts.netloc
    return scheme, (parts.hostname or "").lower(), port


class _CentralSession(compat.pyodk_session_class()):
    """pyodk's session, with redirects that carry no credential elsewhere."""

    def get_redirect_target(self, resp):
        target = super().get_redirect_target(resp)
        if target is None:
            return None
        elsewhere = _origin(urljoin(resp.url, target)) != _origin(resp.url)
        if elsewhere:
            # Every hop passes the rules of the configured address: no
            # download sent to this machine or inside the private network.
            scheme, host, port = _origin(urljoin(resp.url, target))
            try:
                _address_rules(scheme, host, port if isinstance(port, int) else None)
            except ValidationError as exc:
                raise CentralUnavailable(
                    f"ODK Central redirected {resp.request.method} {resp.url} to an address "
                    f"SMS may not reach: {' '.join(exc.messages)}"
                ) from None
        if elsewhere and resp.request.method not in (
            "GET",
            "HEAD",
        ):
            # A 307/308 would send the body (the password of /sessions, a
            # form, entities) to the other host.
            raise CentralUnavailable(
                f"ODK Central redirected {resp.request.method} {resp.url} to another "
                "address; not followed."
            )
        return target

    def should_strip_auth(self, old_url, new_url):
        # requests keeps the token from http to https on the same host and
        # on default ports; keep it only for the very same origin.
        return _origin(old_url) != _origin(new_url)


class _TimeoutAdapter(HTTPAdapter):
    """requests' adapter with a timeout for every request that sets none."""

    def __init__(self, *, timeout: float, **kwargs):
        self.timeout = timeout
        super().__init__(**kwargs)

    def send(self, request, **kwargs):
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        return super().send(request, **kwargs)


def client_for(connection: CentralConnection) -> Client:
    """A fresh pyodk Client for one task run; CentralUnavailable if the
    stored address breaks the address rules."""
    try:
        base_url = checked_address(connection.base_url)
    except ValidationError as exc:
        raise CentralUnavailable(" ".join(exc.messages)) from None
    password = crypto.decrypt(connection.password_encrypted)
    session = _CentralSession(
        base_url=base_url,
        api_version=API_VERSION,
        username=connection.username,
        password=password,
        cache_path=None,
    )
    # pyodk mounts its own timeout/retry adapter for https:// only; a Central
    # on plain http (development) would otherwise have no timeout at all.
    waiting = _interactive.get()
    retries = Retry(
        total=0 if waiting else settings.SMS_ODK_HTTP_RETRIES,
        backoff_factor=2,
        status_forcelist=(429, 500, 502, 503, 504),
    )
    for scheme in ("https://", "http://"):
        session.mount(
            scheme,
            _TimeoutAdapter(
                timeout=settings.SMS_ODK_PAGE_TIMEOUT if waiting else settings.SMS_ODK_HTTP_TIMEOUT,
                max_retries=retries,
            ),
        )
    config = compat.pyodk_config(
        base_url=base_url,
        username=connection.username,
        password=password,
        project_id=connection.project_id,
    )
    return Client(config=config, session=session, project_id=connection.project_id)


def rebase(url: str, connection: CentralConnection) -> str:
    """A Central URL as a path relative to our configured API root.

    @odata.nextLink carries Central's own configured domain, which may not be
    the address we reach it by (internal name, port, proxy): keep only the
    path below /v1/ and the query.
    """
    parts = urlsplit(url)
    path = parts.path
    marker = f"/{API_VERSION}/"
    if marker in path:
        path = path.split(marker, 1)[1]
    return path + (f"?{parts.query}" if parts.query else "")


def checked(response):
    """The response, or CentralUnavailable naming the status."""
    if response.status_code >= 400:
        raise CentralUnavailable(
            f"ODK Central answered {response.status_code} to {response.request.method} "
            f"{response.request.url}: {response.text[:300]}",
            status=response.status_code,
        )
    return response
