"""Helpers for driving the real login views with the test client."""

import re
import time
from base64 import b32decode
from binascii import unhexlify

from django_otp.oath import TOTP

from tests.factories import DEFAULT_PASSWORD

LOGIN_URL = "/accounts/login/"
STEP_UP_URL = "/accounts/reauthenticate/"
PROBE_URL = "/accounts/me/"  # any page that needs a signed-in user


def log_in(client, host, login, password=DEFAULT_PASSWORD, **extra):
    return client.post(LOGIN_URL, {"login": login, "password": password}, HTTP_HOST=host, **extra)


def is_signed_in(client, host) -> bool:
    response = client.get(PROBE_URL, HTTP_HOST=host)
    assert response.status_code in (200, 302), response.status_code
    return response.status_code == 200


def code_for_key(key_hex: str, steps_ahead: int = 0) -> str:
    """The code an authenticator app shows for this secret (``steps_ahead`` x 30 s later)."""
    totp = TOTP(unhexlify(key_hex))
    totp.time = time.time() + 30 * steps_ahead
    return f"{totp.token():06d}"


def code_for_secret(secret_b32: str, steps_ahead: int = 0) -> str:
    return code_for_key(b32decode(secret_b32).hex(), steps_ahead)


def secret_on_page(html: str) -> str:
    """The typed-out secret of the enrolment page, as a person would copy it."""
    match = re.search(r'<p class="secret">(.*?)</p>', html, re.S)
    assert match, "the enrolment page shows no secret"
    return "".join(match.group(1).split())


def backup_codes_on_page(html: str) -> list[str]:
    match = re.search(r'<ol class="codes">(.*?)</ol>', html, re.S)
    assert match, "the page shows no backup codes"
    return re.findall(r"<li>(\w+)</li>", match.group(1))


def step_up(client, host, response, password=DEFAULT_PASSWORD, code=None):
    """``response`` sent the person to confirm it is them (a security change):
    type the password (and the code, if the account has an app) there.
    Returns the response after the form, followed to the end."""
    assert response.status_code == 302, response.status_code
    assert response["Location"].startswith(STEP_UP_URL), response["Location"]
    data = {"password": password}
    if code is not None:
        data["code"] = code
    return client.post(response["Location"], data, HTTP_HOST=host, follow=True)
