"""The translation catalogues (locale/, outside any schema): complete, current,
compiled, and what a French-speaking user really sees.

The source language is English (msgids are the English text). A developer who
wraps a new string in gettext and does not translate it gets a failing test
here naming the string; see the README, "Languages and translations", for the workflow.
"""

import ast
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django_tenants.utils import schema_context

from accounts.roles import HQ_OFFICER
from tests.factories import make_user

BASE_DIR = Path(settings.BASE_DIR)
LOCALE = BASE_DIR / "locale"
LANGUAGES = [code for code, _name in settings.LANGUAGES]
# Every language but the source one is a human translation that must be complete.
TRANSLATED = [code for code in LANGUAGES if code != "en"]
PLURAL_FORMS = {
    "fr": "nplurals=2; plural=(n > 1);",  # French: singular for 0 and 1
    "pt": "nplurals=2; plural=(n != 1);",  # European/African Portuguese: plural for 0
}
# The same exclusions as the makemessages command in the README.
NOT_SOURCE = {".venv", "var", "node_modules", "bench", "locale", "media", "staticfiles"}

# %(name)s / %(size).1f / %s / %% (Python), {name} (str.format, mark patterns), HTML tags.
PLACEHOLDER = re.compile(r"%\(\w+\)[-#0 +]*\d*(?:\.\d+)?[sdifr]|%%|%[sdifr]|\{\w*\}|<[^>]+>")


def catalogue(language: str) -> polib.POFile:
    return polib.pofile(str(LOCALE / language / "LC_MESSAGES" / "django.po"))


def msgids(po: polib.POFile) -> set[tuple[str | None, str]]:
    return {(e.msgctxt, e.msgid) for e in po if not e.obsolete}


def placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text))


@pytest.fixture(scope="module")
def fresh_catalogues(tmp_path_factory) -> dict[str, polib.POFile]:
    """Run makemessages on the current code into a copy of the committed catalogues.

    makemessages writes next to the LOCALE_PATHS entry that "owns" the source
    files it walks, so it runs from a scratch directory that links to the
    source folders and holds a copy of locale/, with a settings module whose
    LOCALE_PATHS points there. The committed files are never touched.
    """
    missing_tools = [tool for tool in ("xgettext", "msgmerge") if shutil.which(tool) is None]
    assert not missing_tools, f"{missing_tools} not found: sudo apt-get install gettext"
    work = tmp_path_factory.mktemp("makemessages")
    for child in BASE_DIR.iterdir():
        if child.name.startswith(".") or child.name in NOT_SOURCE:
            continue
        (work / child.name).symlink_to(child)
    shutil.copytree(LOCALE, work / "locale")
    (work / "i18n_check_settings.py").write_text(
        "from pathlib import Path\n"
        "from sms_platform.settings import *  # noqa: F403\n"
        "LOCALE_PATHS = [Path(__file__).resolve().parent / 'locale']\n"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "i18n_check_settings",
        "PYTHONPATH": os.pathsep.join([str(work), str(BASE_DIR)]),
    }
    command = [sys.executable, str(BASE_DIR / "manage.py"), "makemessages", "--symlinks"]
    command += [arg for code in LANGUAGES for arg in ("-l", code)]
    command += [f"--ignore={name}" for name in sorted(NOT_SOURCE - {"locale"})]
    result = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return {
        code: polib.pofile(str(work / "locale" / code / "LC_MESSAGES" / "django.po"))
        for code in LANGUAGES
    }


# --- Complete and current -----------------------------------------------------------


def test_no_translated_string_hides_inside_an_f_string():
    """xgettext does not look inside f-strings: f"{_('Hello')}" never reaches a catalogue."""
    gettext_names = {"_", "gettext", "gettext_lazy", "pgettext", "pgettext_lazy", "ngettext"}
    hidden = []
    for path in sorted(BASE_DIR.rglob("*.py")):
        relative = path.relative_to(BASE_DIR)
        if relative.parts[0] in NOT_SOURCE | {"tests"} or relative.parts[0].startswith("."):
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(relative))):
            if not isinstance(node, ast.JoinedStr):
                continue
            for call in ast.walk(node):
                if (
                    isinstance(call, ast.Call)
                    and isinstance(call.func, ast.Name)
                    and call.func.id in gettext_names
                ):
                    hidden.append(f"{relative}:{call.lineno}: {ast.unparse(call)}")
    assert not hidden, "Move these calls out of the f-string:\n" + "\n".join(hidden)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_string_in_the_code_is_in_the_committed_catalogue(language, fresh_catalogues):
    missing = msgids(fresh_catalogues[language]) - msgids(catalogue(language))
    assert not missing, (
        f"{len(missing)} string(s) in the code are not in locale/{language}: run makemessages, "
        "translate, compilemessages (README, 'Languages and translations'):\n"
        + "\n".join(repr(msgid) for _ctx, msgid in sorted(missing, key=str))
    )


@pytest.mark.parametrize("language", TRANSLATED)
def test_translated_catalogue_has_no_untranslated_or_fuzzy_entry(language):
    po = catalogue(language)
    untranslated = [e.msgid for e in po.untranslated_entries()]
    fuzzy = [e.msgid for e in po.fuzzy_entries()]
    assert not untranslated, f"Untranslated in {language}:\n" + "\n".join(map(repr, untranslated))
    assert not fuzzy, f"Fuzzy (to check) in {language}:\n" + "\n".join(map(repr, fuzzy))
    assert po.metadata["Plural-Forms"] == PLURAL_FORMS.get(language, po.metadata["Plural-Forms"])
    assert len(po) > 1000  # the whole product, not a stub


def test_english_catalogue_is_complete_and_says_what_the_code_says():
    po = catalogue("en")
    assert not po.fuzzy_entries()
    for entry in po:
        if entry.obsolete:
            continue
        if entry.msgid_plural:
            assert entry.msgstr_plural == {0: entry.msgid, 1: entry.msgid_plural}, entry.msgid
        else:
            assert entry.msgstr == entry.msgid, entry.msgid


@pytest.mark.parametrize("language", LANGUAGES)
def test_compiled_catalogue_matches_its_source(language):
    """A translation edited in the .po but not compiled would never be shown."""
    po = catalogue(language)
    mo = polib.mofile(str(LOCALE / language / "LC_MESSAGES" / "django.mo"))

    def table(entries):
        out = {}
        for e in entries:
            if e.obsolete or "fuzzy" in e.flags or not e.msgid:
                continue
            out[(e.msgctxt, e.msgid)] = (
                tuple(sorted(e.msgstr_plural.items())) if e.msgid_plural else e.msgstr
            )
        return out

    source, compiled = table(po), table(mo)
    stale = {key for key in source if source[key] and compiled.get(key) != source[key]}
    assert not stale, f"locale/{language}: run compilemessages; stale: {sorted(stale)[:10]}"


@pytest.mark.parametrize("language", TRANSLATED)
def test_translation_keeps_every_placeholder_and_tag(language):
    wrong = []
    for e in catalogue(language):
        if e.obsolete:
            continue
        if e.msgid_plural:
            pairs = [(e.msgid, e.msgstr_plural[0])]
            pairs += [(e.msgid_plural, text) for n, text in e.msgstr_plural.items() if n > 0]
        else:
            pairs = [(e.msgid, e.msgstr)]
        for source, translated in pairs:
            if placeholders(source) != placeholders(translated):
                wrong.append(f"{source!r}: {placeholders(source)} != {placeholders(translated)}")
            if source.endswith("\n") != translated.endswith("\n"):
                wrong.append(f"{source!r}: final line break differs")
    assert not wrong, "\n".join(wrong)


# --- What a French-speaking user sees -----------------------------------------------


@pytest.fixture
def officer_b(country_b):
    """An HQ officer of country XB (default language French) who chose nothing."""
    # The connection stays on XB: force_login saves last_login in the user's schema.
    with schema_context(country_b.schema_name):
        yield make_user(role=HQ_OFFICER, all_sites=True, username="awa")


def test_sign_in_page_is_in_french_on_a_french_speaking_country(client, host_b):
    page = client.get("/accounts/login/", HTTP_HOST=host_b).content.decode()
    assert "Se connecter" in page
    assert "Votre mot de passe" in page and "Mot de passe oublié ?" in page
    assert ">Sign in<" not in page


@pytest.mark.parametrize(
    ("path", "french", "english"),
    [
        ("/", ["Tableau de bord", "Articles en stock", "Par magasin"], "Items in stock"),
        ("/items/", ["Rechercher", "Numéro SMS", "Magasin"], "More filters"),
        ("/reports/", ["Rapports", "Tous les rapports générés"], "All generated reports"),
    ],
)
def test_pages_speak_french_to_a_french_speaking_user(
    client, officer_b, host_b, path, french, english
):
    client.force_login(officer_b)
    page = client.get(path, HTTP_HOST=host_b).content.decode()
    for words in french:
        assert words in page, f"{words!r} not on {path}"
    assert english not in page
    assert "Se déconnecter" in page  # the shared menu too


def test_the_same_page_is_english_for_a_user_who_chose_english(client, officer_b, country_b):
    # The French above comes from the catalogue, not from the template.
    officer_b.language = "en"
    officer_b.save(update_fields=["language"])
    client.force_login(officer_b)
    page = client.get("/", HTTP_HOST=country_b.host).content.decode()
    assert "Dashboard" in page and "Items in stock" in page
    assert "Tableau de bord" not in page
