"""core.compat: what SMS relies on beyond its dependencies' documented API is
still there, in the shape used. A failure here names the entry to rework
after an upgrade (django-allauth, pyodk); the login and ODK tests then show
the behaviour (tests/accounts/test_two_factor.py, tests/odk/)."""

import inspect

import pytest
import requests
from django.test import RequestFactory

from core import compat


def _parameters(function) -> list[str]:
    return [name for name in inspect.signature(function).parameters if name != "self"]


def test_allauth_login_stage_controller_enters_a_stage_by_key():
    from allauth.account.internal import stagekit  # noqa: F401 - allauth's own import order
    from allauth.account.stages import LoginStage, LoginStageController

    assert _parameters(LoginStageController.enter) == ["request", "stage_key"], (
        "core.compat.login_stage_required: allauth's LoginStageController.enter changed"
    )
    assert _parameters(LoginStage.__init__) == ["controller", "request", "login"], (
        "accounts.stages.TwoFactorStage: allauth's LoginStage changed"
    )
    assert callable(LoginStage.exit), "accounts.views: LoginStage.exit() is gone"


def test_allauth_stash_login_is_still_internal_and_takes_request_and_login():
    from allauth.account.internal import stagekit

    assert _parameters(stagekit.stash_login) == ["request", "login"], (
        "core.compat.stash_login: allauth.account.internal.stagekit.stash_login changed"
    )


def test_allauth_stash_login_keeps_the_stage_state_in_the_session():
    from allauth.account.models import Login

    request = RequestFactory().get("/")
    request.session = {}
    login = Login(user=None)
    login.state["stages"] = {"sms_two_factor": {"data": {"step": "enrol"}}}
    compat.stash_login(request, login)
    restored = Login.deserialize(next(iter(request.session.values())))
    assert restored.state["stages"]["sms_two_factor"]["data"] == {"step": "enrol"}, (
        "core.compat.stash_login: the stage's state no longer survives a stash"
    )


@pytest.mark.django_db
def test_the_stage_decorator_sends_a_visitor_without_a_login_in_progress_away(client, host_a):
    response = client.get("/accounts/2fa/code/", HTTP_HOST=host_a)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    assert "no-cache" in response["Cache-Control"]


def test_pyodk_session_is_a_requests_session_built_from_memory():
    session_class = compat.pyodk_session_class()
    assert issubclass(session_class, requests.Session)
    assert {"base_url", "api_version", "username", "password", "cache_path"} <= set(
        _parameters(session_class.__init__)
    ), "core.compat.pyodk_session_class: pyodk's Session arguments changed"
    session = session_class(
        base_url="https://central.example.org",
        api_version="v1",
        username="sms@example.org",
        password="secret",
        cache_path=None,
    )
    assert session.base_url == "https://central.example.org/v1/"


def test_pyodk_config_holds_the_account_and_the_client_takes_it():
    from pyodk.client import Client

    config = compat.pyodk_config(
        base_url="https://central.example.org",
        username="sms@example.org",
        password="secret",
        project_id=7,
    )
    assert config.central.base_url == "https://central.example.org"
    assert config.central.username == "sms@example.org"
    assert config.central.default_project_id == 7
    # The password stays out of the configuration's repr (logs, error pages).
    assert "secret" not in repr(config)
    assert {"config", "session", "project_id"} <= set(_parameters(Client.__init__)), (
        "odk.central.client_for: pyodk's Client no longer takes config= and session="
    )
