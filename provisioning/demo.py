"""The demo: Demoland (XD) provisioned from protocols/demo.yaml, its demo
users with fixed passwords, and a platform-staff account on the public side.

Runs from the public schema and enters XD explicitly. Running it again
provisions the difference (usually nothing) and puts the demo users back as
documented, passwords included, so the printed logins always work.
"""

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.utils.translation import gettext as _
from django_tenants.utils import get_public_schema_name, schema_context

from accounts.models import User
from accounts.roles import AUDITOR, HQ_OFFICER, ROLES, SMS_ADMINISTRATOR, STORE_MANAGER
from custody.demo import seed_demo_custody
from stock.demo import seed_demo_stock as register_demo_stock
from stock.models import Site
from tenants.models import Country, host_url

from .protocol import protocol_load
from .services import ProvisioningResult, country_provision

DEMO_PROTOCOL = settings.BASE_DIR / "provisioning" / "protocols" / "demo.yaml"
DEMO_CODE = "XD"


@dataclass(frozen=True)
class DemoUser:
    username: str
    full_name: str
    email: str
    password: str
    role: str
    all_sites: bool = False
    sites: tuple[str, ...] = ()
    language: str = ""  # empty: the country's default language


# "admin" is also the protocol's first administrator; the demo gives it a password.
DEMO_USERS = (
    DemoUser(
        "admin",
        "Demo Administrator",
        "admin@demoland.example",
        "demo-admin-2fa",
        SMS_ADMINISTRATOR,
        all_sites=True,
    ),
    DemoUser(
        "hq",
        "Grace Hq-Officer",
        "hq@demoland.example",
        "demo-hq-pass",
        HQ_OFFICER,
        all_sites=True,
    ),
    DemoUser(
        "store.capital",
        "Samuel Capital-Store",
        "store.capital@demoland.example",
        "demo-store-pass",
        STORE_MANAGER,
        sites=("hq-strongroom",),
    ),
    DemoUser(
        "store.north",
        "Nadia North-Store",
        "store.north@demoland.example",
        "demo-store-pass",
        STORE_MANAGER,
        sites=("north-store",),
    ),
    # The HQ officer again, reading SMS in Portuguese (as in Angola, Mozambique,
    # Guinea-Bissau): the demo in Portuguese without changing the country's language.
    DemoUser(
        "hq.pt",
        "Joana Técnica-Sede",
        "hq.pt@demoland.example",
        "demo-hq-pass",
        HQ_OFFICER,
        all_sites=True,
        language="pt",
    ),
    DemoUser(
        "auditor",
        "Omar Auditor",
        "auditor@demoland.example",
        "demo-audit-pass",
        AUDITOR,
        all_sites=True,
    ),
)
DEMO_STAFF = DemoUser(
    "staff", "Platform Staff", "staff@sms.example", "demo-staff-2fa", "", all_sites=False
)


@dataclass(frozen=True)
class DemoLogin:
    url: str
    username: str
    password: str
    who: str


@dataclass(frozen=True)
class DemoResult:
    provisioning: ProvisioningResult
    logins: list[DemoLogin]


def seed_demo_stock(country: Country) -> None:
    """Extension point for the stock register: fill Demoland with demo items.

    Called by ``demo_setup`` on every run, inside its transaction, with the
    connection already on ``country``'s schema and the demo users and sites in
    place. It must be idempotent (e.g. do nothing when items already exist),
    because the setup command runs ``demo_setup`` each time.
    """
    register_demo_stock(country=country)


def demo_setup() -> DemoResult:
    result = _demo_country_setup()
    # Then daily work to look at: stock-takes (signed, open) and transfers in
    # each state, with discrepancies to resolve (custody.demo). After the
    # transaction above: each custody service is a transaction of its own
    # (durable), as in real work.
    with schema_context(Country.objects.get(code=DEMO_CODE).schema_name):
        seed_demo_custody()
    return result


@transaction.atomic
def _demo_country_setup() -> DemoResult:
    if connection.schema_name != get_public_schema_name():
        raise RuntimeError("The demo is set up from the public schema.")
    provisioning = country_provision(protocol=protocol_load(DEMO_PROTOCOL), send_invitations=False)
    country = Country.objects.get(code=DEMO_CODE)
    logins = []
    with schema_context(country.schema_name):
        for spec in DEMO_USERS:
            user = _demo_user(spec)
            user.groups.set([Group.objects.get(name=ROLES[spec.role].name)])
            user.scoped_sites.set(Site.objects.filter(code__in=spec.sites))
            scope = ", ".join(spec.sites) if spec.sites else _("all sites")
            logins.append(
                DemoLogin(
                    country.base_url + "/",
                    spec.username,
                    spec.password,
                    f"{ROLES[spec.role].label} ({scope})",
                )
            )
        seed_demo_stock(country)
    staff = _demo_user(DEMO_STAFF, is_staff=True)
    logins.append(
        DemoLogin(
            host_url(settings.SMS_BASE_DOMAIN) + "/",
            staff.username,
            DEMO_STAFF.password,
            _("platform staff (console)"),
        )
    )
    return DemoResult(provisioning=provisioning, logins=logins)


def _demo_user(spec: DemoUser, **extra) -> User:
    """Create or reset one demo user in the current schema."""
    user = User.objects.filter(username=spec.username).first() or User(username=spec.username)
    user.full_name = spec.full_name
    user.email = spec.email
    user.all_sites = spec.all_sites
    if spec.language:
        user.language = spec.language
    user.is_active = True
    for name, value in extra.items():
        setattr(user, name, value)
    # Demo only: fixed passwords that are printed, so anyone can try each role.
    # Set only when it differs: a new hash (new salt) would change the session
    # hash and sign every demo user out at each `./sms run`.
    if not user.has_usable_password() or not user.check_password(spec.password):
        user.set_password(spec.password)
    user.save()
    return user
