"""Account URLs, the same on the public host and on every country host."""

from django.urls import include, path
from django.views.generic import RedirectView

from core.access import access_exempt

from . import views

urlpatterns = [
    path("2fa/code/", views.login_verify, name="account_2fa_verify"),
    path("2fa/set-up/", views.login_enrol, name="account_2fa_enrol"),
    path("2fa/backup-codes/", views.login_enrol_codes, name="account_2fa_enrol_codes"),
    path("me/", views.my_account, name="account_me"),
    path("language/", views.set_language, name="account_set_language"),
    path("security/", views.security, name="account_security"),
    path("security/set-up/", views.security_enrol, name="account_security_enrol"),
    path(
        "security/backup-codes/",
        views.security_backup_codes,
        name="account_security_backup_codes",
    ),
    path("security/turn-off/", views.security_disable, name="account_security_disable"),
    path("security/code/", views.security_verify, name="account_security_verify"),
    path("security/e-mail/", views.email_change, name="account_email_change"),
    path(
        "security/e-mail/confirm/<str:token>/",
        views.email_change_confirm,
        name="account_email_confirm",
    ),
    # allauth's own e-mail page would add addresses beside the address of
    # record; before allauth's URLs, this name and path lead to ours instead.
    path(
        "email/",
        access_exempt("a redirect to the person's own e-mail page")(
            RedirectView.as_view(pattern_name="account_email_change")
        ),
        name="account_email",
    ),
    path("", include("allauth.account.urls")),
]
