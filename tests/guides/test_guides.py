"""The training guides (Help menu): the reader's guide first, in the reader's
language, with a screenshot for every step, and the same as a PDF."""

import ast
import io
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django_tenants.utils import schema_context
from pypdf import PdfReader

from accounts.roles import AUDITOR, HQ_OFFICER, SMS_ADMINISTRATOR, STORE_MANAGER
from guides.content import GUIDES, SHOT_LANGUAGES, shot_path, shots_named
from tests.factories import make_user

pytestmark = pytest.mark.django_db

SCREENSHOT_TEST = Path(__file__).resolve().parents[1] / "browser" / "test_guide_screenshots.py"


def shots_the_browser_test_takes() -> set[str]:
    """The names passed to ``camera.shot(page, NAME, ...)`` in the browser test."""
    tree = ast.parse(SCREENSHOT_TEST.read_text(encoding="utf-8"))
    return {
        node.args[1].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "shot"
        and len(node.args) >= 2
        and isinstance(node.args[1], ast.Constant)
    }


def test_every_screenshot_a_guide_names_is_taken_by_the_browser_test():
    named = shots_named()
    assert len(named) > 40
    missing = named - shots_the_browser_test_takes()
    assert not missing, f"guides name screenshots no browser test takes: {sorted(missing)}"


@pytest.mark.parametrize("language", SHOT_LANGUAGES)
def test_every_screenshot_is_there_in_each_language(language):
    missing = [
        shot for shot in sorted(shots_named()) if not finders.find(shot_path(language, shot))
    ]
    assert not missing, (
        f"no {language} screenshot for {missing}: run "
        "`./sms test tests/browser/test_guide_screenshots.py` and commit guides/static"
    )


def test_every_step_is_one_short_action():
    for guide in GUIDES.values():
        assert guide.tasks
        for task in guide.tasks:
            assert 2 <= len(task.steps) <= 10, task.key
            for step in task.steps:
                # One action a line: short enough for a first-time reader.
                assert len(str(step.text)) <= 130, step.text


def _signed_in(client, host, role, **fields):
    user = make_user(role=role, all_sites=role != STORE_MANAGER, **fields)
    client.force_login(user)
    return user


@pytest.mark.parametrize(
    ("role", "first"),
    [
        (STORE_MANAGER, "store-managers"),
        (SMS_ADMINISTRATOR, "administrators"),
        (HQ_OFFICER, "officials"),
        (AUDITOR, "officials"),
    ],
)
def test_the_help_page_lists_the_readers_guide_first(client, country_a, role, first):
    with schema_context(country_a.schema_name):
        _signed_in(client, country_a.host, role)
    response = client.get("/help/", HTTP_HOST=country_a.host)
    assert response.status_code == 200
    keys = [guide.key for guide in response.context["guides"]]
    assert keys[0] == first and sorted(keys) == sorted(GUIDES)
    page = response.content.decode()
    assert page.index(f'href="/help/{first}/"') < min(
        page.index(f'href="/help/{key}/"') for key in keys[1:]
    )


def test_every_signed_in_page_has_the_help_menu(client, country_a):
    with schema_context(country_a.schema_name):
        _signed_in(client, country_a.host, STORE_MANAGER)
    for path in ("/", "/items/", "/transfers/", "/stock-takes/", "/accounts/me/"):
        page = client.get(path, HTTP_HOST=country_a.host).content.decode()
        assert 'class="help-link" href="/help/"' in page, path


@pytest.mark.parametrize(
    ("language", "text", "other"),
    [
        ("en", "Take stock by scanning", "Faire l'inventaire"),
        ("fr", "Faire l&#x27;inventaire en scannant", "Take stock by scanning"),
        ("pt", "Fazer o inventário com o leitor", "Take stock by scanning"),
    ],
)
def test_a_guide_is_in_the_readers_language_with_its_screenshots(
    client, country_a, language, text, other
):
    with schema_context(country_a.schema_name):
        _signed_in(client, country_a.host, STORE_MANAGER, language=language)
    response = client.get("/help/store-managers/", HTTP_HOST=country_a.host)
    page = response.content.decode()
    assert text in page and other not in page
    steps = [step for task in GUIDES["store-managers"].tasks for step in task.steps]
    assert page.count(f'<img src="/static/guides/shots/{language}/') == len(steps)
    assert page.count('<li><p class="guide-step">') == len(steps)


def test_the_pdf_is_the_guide_in_the_readers_language_with_its_pictures(client, country_a):
    with schema_context(country_a.schema_name):
        _signed_in(client, country_a.host, SMS_ADMINISTRATOR, language="pt")
    response = client.get("/help/administrators.pdf", HTTP_HOST=country_a.host)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert 'filename="sms-administrators-pt.pdf"' in response["Content-Disposition"]
    reader = PdfReader(io.BytesIO(response.content))
    text = " ".join(page.extract_text() for page in reader.pages)
    assert "Guia dos administradores do SMS" in text
    assert "Convidar uma pessoa" in text and "Invite a person" not in text
    steps = sum(len(task.steps) for task in GUIDES["administrators"].tasks)
    images = sum(len(page.images) for page in reader.pages)
    assert images == steps


def test_the_guides_are_for_signed_in_people_only(client, country_a):
    for path in ("/help/", "/help/officials/", "/help/officials.pdf"):
        response = client.get(path, HTTP_HOST=country_a.host)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


def test_a_session_of_one_country_opens_no_guide_in_another(client, country_a, country_b):
    with schema_context(country_a.schema_name):
        _signed_in(client, country_a.host, HQ_OFFICER)
    assert client.get("/help/", HTTP_HOST=country_a.host).status_code == 200
    response = client.get("/help/officials/", HTTP_HOST=country_b.host)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_an_unknown_guide_is_not_found(client, country_a):
    with schema_context(country_a.schema_name):
        _signed_in(client, country_a.host, HQ_OFFICER)
    assert client.get("/help/nothing/", HTTP_HOST=country_a.host).status_code == 404
    assert client.get("/help/nothing.pdf", HTTP_HOST=country_a.host).status_code == 404


def test_platform_staff_find_the_guides_on_the_console(client, public_host):
    staff = make_user(username="platform", is_staff=True)
    client.force_login(staff)
    console = client.get("/", HTTP_HOST=public_host).content.decode()
    assert 'class="help-link" href="/help/"' in console
    response = client.get("/help/", HTTP_HOST=public_host)
    assert response.status_code == 200
    assert sorted(guide.key for guide in response.context["guides"]) == sorted(GUIDES)
