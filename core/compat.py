"""The few places SMS leans on a dependency beyond its documented API, in one module.

Every other module uses only the public API of its dependencies. What is here
has no public equivalent (each entry says why), and tests/core/test_compat.py
checks each one against the installed version, naming the entry that broke,
so an upgrade fails there first and loudly instead of somewhere in a login
or an ODK sync. Upgrading django-allauth or pyodk: run that file first.

Bottom layer: imports no app of SMS.
"""

from functools import wraps

from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.views.decorators.cache import never_cache

# --- django-allauth: a login stage of our own (the second factor) ---------------------
#
# allauth documents login stages (adapter.get_login_stages) but not how a
# stage's own pages find the half-done login, nor how they save the stage's
# state between two requests: its own views use allauth.account.internal
# (login_stage_required, stash_login). LoginStageController lives in the public
# module allauth.account.stages; stash_login is internal and used through
# ``stash_login`` below only.


def login_stage_required(*, stage: str, redirect_urlname: str):
    """View decorator: the view runs only during the login stage ``stage``, and
    gets that stage as its ``stage`` argument.

    What allauth's own internal decorator does: a signed-in user goes to where
    a login lands; a visitor with no login at this stage goes to
    ``redirect_urlname``; the page is never cached.
    """

    def decorator(view_func):
        @never_cache
        @login_not_required
        @wraps(view_func)
        def wrapper(request, *args, **kwargs):
            # Imported here: allauth.account.stages imported before
            # allauth.account.internal is a circular import inside allauth.
            from allauth.account.stages import LoginStageController
            from allauth.account.utils import get_login_redirect_url

            if request.user.is_authenticated:
                return HttpResponseRedirect(get_login_redirect_url(request))
            login_stage = LoginStageController.enter(request, stage)
            if not login_stage:
                return HttpResponseRedirect(reverse(redirect_urlname))
            return view_func(request, *args, stage=login_stage, **kwargs)

        return wrapper

    return decorator


def stash_login(request, login) -> None:
    """Save the half-done login (with its stages' state) in the session.

    allauth stashes it itself after a stage's ``handle()``; a stage whose own
    pages change its state (the enrolment's key, the step reached) must stash
    it again, and allauth offers that only in allauth.account.internal.
    """
    from allauth.account.internal.stagekit import stash_login as allauth_stash_login

    allauth_stash_login(request, login)


# --- pyodk: a client built from memory, with a session we configure ------------------
#
# pyodk's Client takes ``config=`` and ``session=`` (documented on Client), but
# the classes to build them, Config/CentralConfig and Session, live in
# pyodk._utils. Its documented alternative is a TOML file with the Central
# password on disk and a token cache in the home folder; neither is acceptable
# for a server holding several countries' credentials. pyodk's own tests
# build them through the names pyodk.client imports, as done here.


def pyodk_session_class():
    """pyodk's Session (a requests.Session subclass), to subclass and pass to a Client."""
    from pyodk import client

    return client.Session


def pyodk_config(*, base_url: str, username: str, password: str, project_id: int | None):
    """pyodk's in-memory configuration for one Central account."""
    from pyodk import client

    return client.cfg.Config(
        central=client.cfg.CentralConfig(
            base_url=base_url,
            username=username,
            password=password,
            default_project_id=project_id,
        )
    )
