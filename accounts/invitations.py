"""One-time invitation links for new users of a country (country schema).

The link leads to allauth's "set a new password from a key" page on the
country's own host. It works once: the token is derived from the user's
password hash, which changes as soon as the password is set.
"""

from allauth.account.forms import default_token_generator
from allauth.account.utils import user_pk_to_url_str
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

COUNTRY_URLCONF = "sms_platform.urls_country"


def invitation_link(*, user, country) -> str:
    """Absolute URL, on ``country``'s host, where ``user`` sets a password."""
    path = reverse(
        "account_reset_password_from_key",
        kwargs={
            "uidb36": user_pk_to_url_str(user),
            "key": default_token_generator.make_token(user),
        },
        urlconf=COUNTRY_URLCONF,
    )
    return f"{country.base_url}{path}"


def invitation_send(*, user, country) -> str:
    """E-mail ``user`` their invitation once the caller's transaction commits
    (no mail for a user whose creation is rolled back). Returns the link."""
    link = invitation_link(user=user, country=country)
    language = user.language or country.default_language or settings.LANGUAGE_CODE
    with translation.override(language):
        subject = _("Your account on the stockpile register of %(country)s") % {
            "country": country.name
        }
        body = _(
            "Hello %(name)s,\n\n"
            "An account has been created for you on the stockpile register of "
            "%(country)s. Your username is: %(username)s\n\n"
            "Open this link to choose your password (it works only once):\n%(link)s\n\n"
            "You will then be asked to set up two-factor authentication with an "
            "authenticator app on your phone.\n"
        ) % {
            "name": user.display_name,
            "country": country.name,
            "username": user.username,
            "link": link,
        }
    recipient = user.email
    transaction.on_commit(
        lambda: send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [recipient])
    )
    return link
