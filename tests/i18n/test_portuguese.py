"""What a Portuguese-speaking user sees: pages, the sign-in page of a lusophone
country, forms, e-mails and a protocol written in Portuguese.

The catalogue itself (complete, compiled, placeholders kept, plural rule) is
checked for every language of settings.LANGUAGES by test_catalogue.py; the
CITES declaration files are in tests/reporting/test_portuguese_reports.py and
the ODK forms in tests/odk/test_portuguese_forms.py.
"""

import copy

import pytest
from django.conf import settings
from django.core import mail
from django.utils import translation
from django_tenants.utils import schema_context

from accounts.invitations import invitation_send
from accounts.roles import HQ_OFFICER, STORE_MANAGER
from provisioning.protocol import protocol_parse
from stock.forms import CustomFieldForm
from tests.factories import make_user
from tests.provisioning.helpers import protocol_data, protocol_yaml


@pytest.fixture
def officer_pt(country_b):
    """An HQ officer of country XB (default language French) who chose Portuguese."""
    with schema_context(country_b.schema_name):
        yield make_user(role=HQ_OFFICER, all_sites=True, username="joana", language="pt")


@pytest.fixture
def lusophone(country_b):
    """Country XB made lusophone, as a protocol with `default_language: pt` does."""
    country_b.languages = ["pt", "en"]
    country_b.default_language = "pt"
    country_b.save(update_fields=["languages", "default_language"])
    return country_b


def test_portuguese_is_a_language_of_the_deployment():
    assert ("pt", "Portuguese") in [(code, str(name)) for code, name in settings.LANGUAGES]


def test_sign_in_page_is_in_portuguese_on_a_lusophone_country(client, lusophone):
    page = client.get("/accounts/login/", HTTP_HOST=lusophone.host).content.decode()
    assert "Iniciar sessão" in page
    assert "A sua palavra-passe" in page and "Esqueceu-se da palavra-passe?" in page
    assert ">Sign in<" not in page and "Se connecter" not in page


@pytest.mark.parametrize(
    ("path", "portuguese", "other"),
    [
        (
            "/",
            ["Painel", "Artigos em existência", "Por armazém"],
            ["Items in stock", "Par magasin"],
        ),
        ("/items/", ["Pesquisar", "Número SMS", "Armazém"], ["More filters", "Magasin"]),
        (
            "/reports/",
            ["Relatórios", "Todos os relatórios gerados", "Declarações de existências"],
            ["All generated reports", "Rapports"],
        ),
    ],
)
def test_pages_speak_portuguese_to_a_user_who_chose_it(
    client, officer_pt, host_b, path, portuguese, other
):
    # XB's own language is French: Portuguese comes from the user's choice.
    client.force_login(officer_pt)
    page = client.get(path, HTTP_HOST=host_b).content.decode()
    for words in portuguese:
        assert words in page, f"{words!r} not on {path}"
    for words in other:
        assert words not in page, f"{words!r} (English or French) on {path}"
    assert "Terminar sessão" in page  # the shared menu too
    assert 'lang="pt"' in page


def test_the_language_menu_offers_portuguese(client, officer_pt, host_b):
    client.force_login(officer_pt)
    page = client.get("/accounts/me/", HTTP_HOST=host_b).content.decode()
    assert "português" in page


def test_custom_field_form_asks_for_a_portuguese_label_and_explains_the_choices():
    with translation.override("pt"):
        form = CustomFieldForm(languages=[(c, n) for c, n in settings.LANGUAGES])
        assert str(form.fields["label_pt"].label) == "Rótulo em português"
        help_text = str(form.fields["choices_text"].help_text)
    assert help_text == (
        "Só para campos de escolha: uma opção por linha, como valor | rótulo em inglês | "
        "rótulo em francês | rótulo em português."
    )
    with translation.override("en"):
        form = CustomFieldForm(languages=[("en", "English"), ("fr", "French")])
        assert str(form.fields["choices_text"].help_text) == (
            "Only for choice fields: one choice per line, as value | label in English | "
            "label in French."
        )


def test_invitation_e_mail_is_in_portuguese_for_a_lusophone_country(
    lusophone, django_capture_on_commit_callbacks
):
    with schema_context(lusophone.schema_name):
        manager = make_user(role=STORE_MANAGER, username="tomas", email="tomas@example.org")
        with django_capture_on_commit_callbacks(execute=True):
            invitation_send(user=manager, country=lusophone)
    [message] = mail.outbox
    assert message.subject == f"A sua conta no registo de existências de {lusophone.name}"
    assert "Foi criada uma conta para si" in message.body
    assert "O seu nome de utilizador é: tomas" in message.body


def _in_portuguese(data: dict) -> dict:
    """The test protocol with its French labels written in Portuguese instead."""
    words = {"Ivoire": "Marfim", "Défense entière": "Presa inteira"}
    data = copy.deepcopy(data)

    def walk(node):
        if isinstance(node, dict):
            labels = node.get("labels")
            if isinstance(labels, dict) and "fr" in labels:
                french = labels.pop("fr")
                labels["pt"] = words.get(french, french)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(data)
    data["country"]["languages"] = ["pt", "en"]
    data["country"]["default_language"] = "pt"
    return data


def test_a_protocol_can_make_a_lusophone_country():
    protocol = protocol_parse(protocol_yaml(_in_portuguese(protocol_data())))
    assert protocol.country.languages == ["pt", "en"]
    assert protocol.country.default_language == "pt"
    assert protocol.categories[0].labels["pt"] == "Marfim"
