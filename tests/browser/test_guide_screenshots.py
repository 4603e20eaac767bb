"""The training guides' screenshots, taken from the demo in a real Chromium,
in English, French and Portuguese (README, "Training guides").

The demo is made as `./sms run` makes it (provisioning.demo.demo_setup:
Demoland, its users, its stock, transfers and stock-takes) in the live
server's database; each demo user then walks through the guides' tasks in
each language and every step is photographed, the element to press or fill
framed in orange. The pictures go where the guides read them,
guides/static/guides/shots/<language>/<name>.jpg (or $SMS_GUIDE_SHOTS), so
running this test refreshes them: commit what it changed.

The test fails when a guide names a screenshot this test does not make
(tests/guides/test_guides.py checks the same from this file's text, without
a browser). Nothing is saved by the walk: every form is filled and framed,
never sent — except one scan in the stock-take, as a store manager does.
"""

import os
from pathlib import Path

import pytest
from django.db import connection
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from guides.content import SHOT_FOLDER, SHOT_LANGUAGES, shots_named
from tests.database_roles import database_owner

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
# Small enough that the text of a step's picture reads on paper and a phone.
VIEWPORT = {"width": 1024, "height": 640}
FRAME = "4px solid #e8590c"
DEMO_PASSWORD = "demo-store-pass"
BROWSER_LOCALES = {"en": "en-GB", "fr": "fr-FR", "pt": "pt-PT"}


def shot_folder(language: str) -> Path:
    base = os.environ.get("SMS_GUIDE_SHOTS")
    folder = Path(base) / language if base else ROOT / "guides" / "static" / SHOT_FOLDER / language
    folder.mkdir(parents=True, exist_ok=True)
    return folder


class Camera:
    """Takes the named pictures of one language; remembers which it made."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.made: set[str] = set()

    def shot(self, page, name: str, target=None):
        if target is not None:
            target = target.first
            expect(target).to_be_attached()
            # Centred; an element taller than half the screen from its top
            # (under the heading that names it).
            target.evaluate(
                "(e, frame) => { const tall = e.getBoundingClientRect().height"
                " > window.innerHeight / 2;"
                " e.scrollIntoView({block: tall ? 'start' : 'center'});"
                " if (tall) window.scrollBy(0, -48);"
                " e.style.outline = frame; e.style.outlineOffset = '3px'; }",
                FRAME,
            )
        else:
            page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=self.folder / f"{name}.jpg", type="jpeg", quality=72)
        if target is not None:
            target.evaluate("e => { e.style.outline = ''; e.style.outlineOffset = ''; }")
        self.made.add(name)


def demo_places() -> dict:
    """Addresses of the demo's objects that the guides show (on XD's schema)."""
    from custody.models import Discrepancy, StockTake, Transfer
    from stock.models import StockItem

    open_count = StockTake.objects.get(site__code="north-store", status=StockTake.Status.OPEN)
    return {
        "stocktake": f"/stock-takes/{open_count.pk}/",
        "unchecked": list(
            open_count.lines.filter(expected=True, result="unchecked")
            .order_by("item__sms_number")
            .values_list("item__sms_number", flat=True)[: len(SHOT_LANGUAGES)]
        ),
        "draft": f"/transfers/{Transfer.objects.get(status='draft').pk}/",
        # On its way to the north store (dispatched, not received).
        "in_transit": f"/transfers/{Transfer.objects.get(status='dispatched').pk}/",
        "discrepancy": Discrepancy.objects.filter(resolved_at=None).order_by("pk").first().pk,
        "north_item": "/items/{}/".format(
            StockItem.objects.filter(site__code="north-store", status="in_stock")
            .order_by("sms_number")
            .first()
            .pk
        ),
    }


def odk_as_set_up():
    """The ODK steps show Central as it is once connected (step 3 of the
    guide): a connection and a store manager's app user, no network needed."""
    from accounts.models import User
    from odk.models import AppUser, CentralConnection

    CentralConnection.objects.get_or_create(
        defaults={
            "base_url": "https://central.demoland.example",
            "username": "sms@demoland.example",
            "password_encrypted": "-",
            "project_id": 7,
            "project_name": "Demoland",
        }
    )
    north = User.objects.get(username="store.north")
    AppUser.objects.get_or_create(
        user=north,
        defaults={"central_id": 101, "display_name": north.full_name, "token_encrypted": "-"},
    )


def _nav(page, href):
    return page.locator(f".mainnav a[href='{href}']")


def sign_in_pictures(page, camera, base, language):
    page.goto(base + "/accounts/login/")
    if language != "en":
        with page.expect_navigation():
            page.locator(".topbar select[name=language]").select_option(language)
    camera.shot(page, "sign-in-page")
    page.locator("input[name=login]").fill("store.north")
    camera.shot(page, "sign-in-username", page.locator("input[name=login]"))
    page.locator("input[name=password]").fill(DEMO_PASSWORD)
    camera.shot(page, "sign-in-password", page.locator("input[name=password]"))
    camera.shot(page, "sign-in-button", page.locator("main form button[type=submit]"))


def store_manager_north(page, camera, base, places):
    # Register an item (never sent).
    page.goto(base + "/")
    camera.shot(page, "register-menu", _nav(page, "/items/new/"))
    page.goto(base + "/items/new/")
    page.locator("select[name=item_type]").select_option(index=1)
    camera.shot(page, "register-start", page.locator("select[name=item_type]"))
    camera.shot(page, "register-continue", page.locator("main form.stack button[type=submit]"))
    page.locator("main form.stack button[type=submit]").click()
    page.wait_for_load_state()
    weight = page.locator("input[name=weight_kg]")
    weight.fill("12.500")
    camera.shot(page, "register-form", weight)
    camera.shot(page, "register-photos", page.locator("input[type=file]"))
    camera.shot(page, "register-button", page.locator("main form button[type=submit]").last)
    page.goto(base + places["north_item"])
    camera.shot(page, "item-label", page.locator("select[name=label_format]").first)

    # Take stock by scanning: one scan, as a store manager does; never signed off.
    page.goto(base + "/")
    camera.shot(page, "stocktake-menu", _nav(page, "/stock-takes/"))
    page.goto(base + "/stock-takes/")
    camera.shot(page, "stocktake-open", page.locator(f"main a[href='{places['stocktake']}']"))
    page.goto(base + places["stocktake"])
    scan = page.locator("#scan input[name=number]")
    camera.shot(page, "stocktake-scan-box", scan)
    number = places["unchecked"].pop(0)  # one per language: each finds a new item
    scan.fill(number)
    scan.press("Enter")
    expect(page.locator("#scan [data-scan-log] li").first).to_contain_text(number)
    camera.shot(page, "stocktake-scanned", page.locator("#scan"))
    camera.shot(page, "stocktake-items", page.locator("#items table").first)
    camera.shot(
        page, "stocktake-line", page.locator("#items a[href^='/stock-takes/'][href*='/items/']")
    )
    camera.shot(page, "stocktake-sign-off", page.locator("#sign-off-preview"))
    camera.shot(page, "stocktake-confirm", page.locator("#field-confirm_missing"))
    camera.shot(page, "stocktake-sign-button", page.locator("#sign-off button[type=submit]").last)

    # Receive the transfer on its way to the north store (never recorded).
    page.goto(base + "/transfers/")
    camera.shot(page, "receive-list", page.locator(f"main a[href='{places['in_transit']}']"))
    page.goto(base + places["in_transit"])
    camera.shot(page, "receive-scan", page.locator("#receive-scan"))
    camera.shot(page, "receive-lines", page.locator("#lines"))
    camera.shot(page, "receive-rest", page.locator("#field-rest_arrived"))
    camera.shot(page, "receive-record", page.locator("#receive button[type=submit]").last)


def store_manager_capital(page, camera, base, places):
    page.goto(base + "/")
    camera.shot(page, "transfers-menu", _nav(page, "/transfers/"))
    page.goto(base + "/transfers/")
    camera.shot(page, "transfer-new-link", page.locator("main a[href='/transfers/new/']"))
    page.goto(base + "/transfers/new/")
    destination = page.locator("select[name=destination]")
    destination.select_option(index=1)
    page.locator("[name=reason]").fill("Evidence for the coast court case")
    camera.shot(page, "transfer-where", destination)
    camera.shot(page, "transfer-items", page.locator("#picker-scan"))
    camera.shot(page, "transfer-prepare", page.locator("button[value=prepare]"))
    page.goto(base + places["draft"])
    camera.shot(page, "transfer-manifest", page.locator("main a[href$='manifest.pdf']"))
    camera.shot(page, "transfer-dispatch", page.locator("main form[action$='/dispatch/']"))


def administrator(page, camera, base, places):
    page.goto(base + "/")
    camera.shot(page, "admin-menu", _nav(page, "/administration/"))
    page.goto(base + "/administration/")
    camera.shot(page, "admin-people", page.locator("main a[href='/administration/users/']"))
    page.goto(base + "/administration/users/")
    invite = page.locator("main a[href='/administration/users/invite/']")
    camera.shot(page, "invite-link", invite)
    page.goto(base + "/administration/users/invite/")
    page.locator("input[name=full_name]").fill("Amina Diallo")
    page.locator("input[name=username]").fill("amina.diallo")
    page.locator("input[name=email]").fill("amina.diallo@demoland.example")
    camera.shot(page, "invite-name", page.locator("input[name=full_name]"))
    role = page.locator("[name=role]")
    camera.shot(page, "invite-role", role)
    camera.shot(page, "invite-send", page.locator("main form button[type=submit]").last)

    page.goto(base + "/")
    camera.shot(page, "odk-menu", _nav(page, "/odk/"))
    page.goto(base + "/odk/")
    camera.shot(page, "odk-connection-link", page.locator("main a[href='/odk/connection/']"))
    page.goto(base + "/odk/connection/")
    camera.shot(page, "odk-connection-form", page.locator("main form").last)
    page.goto(base + "/odk/")
    camera.shot(page, "odk-actions", page.locator("main form[action='/odk/action/project/']"))
    camera.shot(page, "odk-app-users", page.locator("main form[action='/odk/action/app-users/']"))
    camera.shot(page, "odk-qr", page.locator("main a[href^='/odk/app-users/']"))

    page.goto(base + "/transfers/")
    camera.shot(page, "discrepancy-list", page.locator("main a[href='/discrepancies/']"))
    page.goto(base + "/discrepancies/")
    resolve = page.locator(f"main a[href='/discrepancies/{places['discrepancy']}/']")
    camera.shot(page, "discrepancy-resolve-link", resolve)
    resolve.click()
    page.wait_for_load_state()
    note = page.locator("main textarea").first
    note.fill("Found in the second crate; weighed again.")
    camera.shot(page, "discrepancy-form", note)

    page.goto(base + "/administration/")
    camera.shot(page, "activity-link", page.locator("main a[href='/administration/activity/']"))
    page.goto(base + "/administration/activity/")
    camera.shot(page, "activity-filter", page.locator("main form").first)


def official(page, camera, base, places):
    page.goto(base + "/")
    camera.shot(page, "dashboard")
    camera.shot(page, "dashboard-cards", page.locator("main .cards").first)
    camera.shot(page, "dashboard-by-store", page.locator("main section.panel table").first)
    camera.shot(page, "reports-menu", _nav(page, "/reports/"))
    page.goto(base + "/reports/")
    camera.shot(page, "reports-summary-link", page.locator("main a[href='/reports/summary/']"))
    page.goto(base + "/reports/summary/")
    camera.shot(page, "report-summary", page.locator("main form").first)
    camera.shot(page, "report-export", page.locator("main form:has([name=format])").first)
    page.goto(base + "/")
    cites = page.locator("main a[href*='cites_kind=']").first
    camera.shot(page, "cites-link", cites)
    cites.click()
    page.wait_for_load_state()
    camera.shot(page, "cites-report")
    reasons = page.locator("#id_file_reasons")
    reasons.fill("Two tusks seized in March; one horn sent to the court.")
    camera.shot(page, "cites-reasons", reasons)
    camera.shot(page, "cites-file", page.locator("main form:has(#id_file_reasons) button").last)


WALKS = (
    ("store.north", store_manager_north),
    ("store.capital", store_manager_capital),
    ("admin", administrator),
    ("hq", official),
)


def take_pictures(browser, *, base: str, cookie_for, language: str, places: dict) -> set:
    """Every picture of every guide in ``language``; returns the names made.
    ``cookie_for(username)`` gives a signed-in session cookie of a demo user
    whose language is ``language``."""
    camera = Camera(shot_folder(language))
    # The browser's own widgets (date fields) in the language too.
    locale = BROWSER_LOCALES[language]
    context = browser.new_context(viewport=VIEWPORT, locale=locale)
    context.set_default_timeout(15_000)
    try:
        sign_in_pictures(context.new_page(), camera, base, language)
    finally:
        context.close()
    for username, walk in WALKS:
        context = browser.new_context(viewport=VIEWPORT, locale=locale)
        context.set_default_timeout(15_000)
        context.add_cookies([{**cookie_for(username), "url": base}])
        try:
            walk(context.new_page(), camera, base, places)
        finally:
            context.close()
    return camera.made


@pytest.fixture
def demo(live_server, settings, tmp_path):
    """The demo country as `./sms run` makes it, removed at the end."""
    from provisioning.demo import demo_setup
    from tenants.models import Country

    settings.MEDIA_ROOT = tmp_path / "media"
    with database_owner():
        demo_setup()
    country = Country.objects.get(code="XD")
    yield country, f"http://{country.host}:{live_server.url.rsplit(':', 1)[1]}"
    with database_owner():
        connection.set_schema_to_public()
        with connection.cursor() as cursor:
            cursor.execute("DROP SCHEMA IF EXISTS xd CASCADE")
        Country.objects.filter(code="XD").delete()


def test_the_guides_pictures_are_taken_from_the_demo_in_each_language(browser, demo):
    from django.conf import settings
    from django.test import Client

    from accounts.models import User

    country, base = demo
    with schema_context(country.schema_name):
        odk_as_set_up()
        places = demo_places()
    for language in SHOT_LANGUAGES:

        def cookie_for(username, language=language):
            client = Client()
            with schema_context(country.schema_name):
                user = User.objects.get(username=username)
                User.objects.filter(pk=user.pk).update(language=language)
                user.refresh_from_db()
                client.force_login(user)
            return {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
            }

        made = take_pictures(
            browser, base=base, cookie_for=cookie_for, language=language, places=places
        )
        missing = shots_named() - made
        assert not missing, f"the guides name pictures no test makes ({language}): {missing}"
        for name in shots_named():
            assert (shot_folder(language) / f"{name}.jpg").stat().st_size > 5_000
