"""Account URLs, the same on the public host and on every country host."""

from django.urls import include, path

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
    path("", include("allauth.account.urls")),
]
