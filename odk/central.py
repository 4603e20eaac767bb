"""Talking to the country's ODK Central through pyodk (no tables here).

A pyodk Client is built per task run (its token is never refreshed and
Central sessions last 24 h), with the configuration in memory (``Config``) and
no token cache on disk (``cache_path=None``). Every call passes the country's
``project_id`` explicitly.
"""

from urllib.parse import urlsplit

from django.conf import settings
from pyodk._utils.config import CentralConfig, Config
from pyodk._utils.session import Adapter, Session
from pyodk.client import Client
from pyodk.errors import PyODKError
from requests.adapters import Retry
from requests.exceptions import RequestException

from . import crypto
from .models import CentralConnection

API_VERSION = "v1"


class CentralUnavailable(Exception):
    """Central could not be reached or answered with an error; str() says what."""


# What a failed call to Central raises: callers catch these together.
CENTRAL_ERRORS = (PyODKError, RequestException, CentralUnavailable)


def client_for(connection: CentralConnection) -> Client:
    """A fresh pyodk Client for one task run."""
    password = crypto.decrypt(connection.password_encrypted)
    config = Config(
        central=CentralConfig(
            base_url=connection.base_url,
            username=connection.username,
            password=password,
            default_project_id=connection.project_id,
        )
    )
    session = Session(
        base_url=connection.base_url,
        api_version=API_VERSION,
        username=connection.username,
        password=password,
        cache_path=None,
    )
    # pyodk mounts its timeout/retry adapter for https:// only; a Central on
    # plain http (a LAN server) would otherwise have no timeout at all.
    retries = Retry(
        total=settings.SMS_ODK_HTTP_RETRIES,
        backoff_factor=2,
        status_forcelist=(429, 500, 502, 503, 504),
    )
    for scheme in ("https://", "http://"):
        session.mount(
            scheme,
            Adapter(timeout=settings.SMS_ODK_HTTP_TIMEOUT, max_retries=retries, blocksize=16384),
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
            f"{response.request.url}: {response.text[:300]}"
        )
    return response
