"""The training guides: one per audience, task by task, one action per step,
each step with a screenshot of the demo.

The text goes through Django's translation like every other string (the
French and Portuguese catalogues must be complete: tests/i18n), so the three
languages stay in step: a step changed in English is untranslated in French
and Portuguese until someone translates it, and the catalogue test says so.

``Step.shot`` names a screenshot, taken in each language by the browser test
tests/browser/test_guide_screenshots.py from the demo and written to
``guides/static/guides/shots/<language>/<shot>.jpg``. A guide that names a
screenshot no test makes fails tests/guides/test_guides.py.
"""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from accounts.roles import AUDITOR, HQ_OFFICER, SMS_ADMINISTRATOR, STORE_MANAGER

SHOT_FOLDER = "guides/shots"  # inside the app's static folder
SHOT_LANGUAGES = ("en", "fr", "pt")


@dataclass(frozen=True)
class Step:
    text: object
    shot: str


@dataclass(frozen=True)
class Task:
    key: str
    title: object
    steps: tuple[Step, ...]


@dataclass(frozen=True)
class Guide:
    key: str
    title: object
    audience: object
    roles: tuple[str, ...]
    tasks: tuple[Task, ...]


SIGN_IN = Task(
    "sign-in",
    _("Sign in"),
    (
        Step(_("Open the address of SMS that your administrator gave you."), "sign-in-page"),
        Step(_("Type your username in the first box."), "sign-in-username"),
        Step(_("Type your password in the second box."), "sign-in-password"),
        Step(_("Press “Sign in”."), "sign-in-button"),
    ),
)

STORE = Guide(
    "store-managers",
    _("Guide for store managers"),
    _("For the people who keep a store: registering, counting and moving items."),
    (STORE_MANAGER,),
    (
        SIGN_IN,
        Task(
            "register",
            _("Register an item"),
            (
                Step(_("Press “Register an item” in the menu at the top."), "register-menu"),
                Step(_("Choose the store and the type of the item."), "register-start"),
                Step(_("Press “Continue”."), "register-continue"),
                Step(
                    _("Type the weight and the other details. Boxes marked * must be filled in."),
                    "register-form",
                ),
                Step(_("Add one or more photos of the item."), "register-photos"),
                Step(_("Press “Register”. The item receives its SMS number."), "register-button"),
                Step(
                    _("On the item's page, choose the label size and press “Print label”."),
                    "item-label",
                ),
            ),
        ),
        Task(
            "stock-take",
            _("Take stock by scanning"),
            (
                Step(_("Press “Stock-takes” in the menu."), "stocktake-menu"),
                Step(
                    _("Press the stock-take of your store to open it."),
                    "stocktake-open",
                ),
                Step(_("Press in the box under “Check items”."), "stocktake-scan-box"),
                Step(
                    _("Scan the label of an item. The item is marked “Found”."),
                    "stocktake-scanned",
                ),
                Step(_("Scan the next item, and so on until the last one."), "stocktake-items"),
                Step(
                    _(
                        "An item is damaged, or its weight is not the same? "
                        "Press “Weigh, note, photo…” on its line."
                    ),
                    "stocktake-line",
                ),
                Step(
                    _("When all is counted, go down to “Sign off” and read what will be recorded."),
                    "stocktake-sign-off",
                ),
                Step(
                    _(
                        "Read how many items will be recorded as missing. Tick “Record … as "
                        "missing” only if that is right."
                    ),
                    "stocktake-confirm",
                ),
                Step(_("Press “Sign off the stock-take”."), "stocktake-sign-button"),
            ),
        ),
        Task(
            "send",
            _("Send a transfer"),
            (
                Step(_("Press “Transfers” in the menu."), "transfers-menu"),
                Step(_("Press “Send items to another store”."), "transfer-new-link"),
                Step(
                    _(
                        "Choose where the items go, why, and the reference of the authority's letter."
                    ),
                    "transfer-where",
                ),
                Step(
                    _("Scan the label of each item to send, or tick it in the list."),
                    "transfer-items",
                ),
                Step(_("Press “Prepare the transfer”."), "transfer-prepare"),
                Step(
                    _("Print the manifest (PDF) and put it with the items."),
                    "transfer-manifest",
                ),
                Step(
                    _("Type the seal numbers and the courier, then press “Dispatch now”."),
                    "transfer-dispatch",
                ),
            ),
        ),
        Task(
            "receive",
            _("Receive a transfer"),
            (
                Step(
                    _("Press “Transfers” and open the transfer coming to your store."),
                    "receive-list",
                ),
                Step(_("Scan the label of each item that arrived."), "receive-scan"),
                Step(
                    _(
                        "An item did not arrive, or its weight is not the same? Mark it in the list."
                    ),
                    "receive-lines",
                ),
                Step(_("Tick “All arrived as dispatched” for the others."), "receive-rest"),
                Step(_("Press “Record the receipt”."), "receive-record"),
            ),
        ),
    ),
)

ADMINISTRATORS = Guide(
    "administrators",
    _("Guide for SMS administrators"),
    _("For the people who run SMS in the country: people, ODK Collect, discrepancies."),
    (SMS_ADMINISTRATOR,),
    (
        Task(
            "invite",
            _("Invite a person"),
            (
                Step(_("Press “Administration” in the menu."), "admin-menu"),
                Step(_("Press “People”."), "admin-people"),
                Step(_("Press “Invite someone”."), "invite-link"),
                Step(
                    _("Type their full name, a username and their e-mail address."),
                    "invite-name",
                ),
                Step(_("Choose their role and their stores."), "invite-role"),
                Step(
                    _(
                        "Press “Send the invitation”. They receive an e-mail to choose their password."
                    ),
                    "invite-send",
                ),
            ),
        ),
        Task(
            "odk",
            _("Set up ODK Collect"),
            (
                Step(_("Press “ODK” in the menu."), "odk-menu"),
                Step(_("Press “Connection settings”."), "odk-connection-link"),
                Step(
                    _(
                        "Type the address of your ODK Central, its e-mail and password, then press “Save”."
                    ),
                    "odk-connection-form",
                ),
                Step(
                    _("Press “Create the Central project”, then “Publish the forms”."),
                    "odk-actions",
                ),
                Step(_("Press “App users for store managers”."), "odk-app-users"),
                Step(
                    _(
                        "Press “Show the QR code” for a store manager and let only that person scan it with ODK Collect."
                    ),
                    "odk-qr",
                ),
            ),
        ),
        Task(
            "discrepancy",
            _("Resolve a discrepancy"),
            (
                Step(_("Press “Transfers”, then “Discrepancies”."), "discrepancy-list"),
                Step(_("Press “Resolve” beside a discrepancy."), "discrepancy-resolve-link"),
                Step(
                    _("Write what was found out, then press “Resolve”."),
                    "discrepancy-form",
                ),
            ),
        ),
        Task(
            "activity",
            _("See who saw what"),
            (
                Step(_("Press “Administration”, then “Activity”."), "activity-link"),
                Step(_("Choose a person or dates, then press “Show”."), "activity-filter"),
            ),
        ),
    ),
)

OFFICIALS = Guide(
    "officials",
    _("Guide for officials reading reports"),
    _("For the people who read the stock and file the CITES declarations."),
    (HQ_OFFICER, AUDITOR),
    (
        Task(
            "dashboard",
            _("Read the dashboard"),
            (
                Step(
                    _("After signing in you see the dashboard: the stock of every store."),
                    "dashboard",
                ),
                Step(
                    _("The boxes at the top give the items, pieces and weight in stock."),
                    "dashboard-cards",
                ),
                Step(
                    _("“By store” gives each store's stock. Press a figure to see its items."),
                    "dashboard-by-store",
                ),
            ),
        ),
        Task(
            "report",
            _("Make a report"),
            (
                Step(_("Press “Reports” in the menu."), "reports-menu"),
                Step(_("Press “Summary”."), "reports-summary-link"),
                Step(_("Choose the dates and the stores, then press “Show”."), "report-summary"),
                Step(
                    _("To keep it, choose Excel, CSV or PDF under “Export:”."),
                    "report-export",
                ),
            ),
        ),
        Task(
            "declaration",
            _("File a CITES declaration"),
            (
                Step(
                    _(
                        "On the dashboard, under “CITES declarations”, press the declaration to file."
                    ),
                    "cites-link",
                ),
                Step(_("Check the figures and the list of items."), "cites-report"),
                Step(
                    _("Under “File this declaration”, write the reasons for the changes."),
                    "cites-reasons",
                ),
                Step(
                    _("Press “File the declaration”. Its figures are then kept as they are."),
                    "cites-file",
                ),
            ),
        ),
    ),
)

GUIDES: dict[str, Guide] = {guide.key: guide for guide in (STORE, ADMINISTRATORS, OFFICIALS)}


def guides_for(role_key: str | None) -> list[Guide]:
    """Every guide, the one for ``role_key`` first."""
    return sorted(GUIDES.values(), key=lambda guide: role_key not in guide.roles)


def shots_named() -> set[str]:
    return {step.shot for guide in GUIDES.values() for task in guide.tasks for step in task.steps}


def shot_language(language: str | None) -> str:
    code = (language or "en").split("-")[0]
    return code if code in SHOT_LANGUAGES else "en"


def shot_path(language: str, shot: str) -> str:
    """The screenshot's path among the static files."""
    return f"{SHOT_FOLDER}/{shot_language(language)}/{shot}.jpg"
