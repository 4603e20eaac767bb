"""Deployment-wide settings (public schema and every country schema).

Everything comes from the environment with safe development defaults; secrets
have no production default.  ``SMS_ENV=production`` switches on the hardened
profile that passes ``manage.py check --deploy``.
"""

import os
from pathlib import Path

import dj_database_url
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

from core.words import is_yes

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return is_yes(value)


def env_list(name: str, default: str = "") -> list[str]:
    return [part.strip() for part in os.environ.get(name, default).split(",") if part.strip()]


SMS_ENV = os.environ.get("SMS_ENV", "development")
PRODUCTION = SMS_ENV == "production"
DEBUG = env_bool("DJANGO_DEBUG", not PRODUCTION)

if PRODUCTION:
    SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
    if len(SECRET_KEY) < 50:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(
            "SMS_ENV=production needs DJANGO_SECRET_KEY in the environment "
            "(50 or more random characters; see deploy/README.md)."
        )
else:
    SECRET_KEY = os.environ.get(
        "DJANGO_SECRET_KEY", "development-only-key-never-used-in-production-0123456789abcdef"
    )

# Public host serves the platform-staff console; each country answers at
# <iso2>.<SMS_BASE_DOMAIN>.
SMS_BASE_DOMAIN = os.environ.get("SMS_BASE_DOMAIN", "localhost").lower()
SMS_PUBLIC_SCHEME = os.environ.get("SMS_PUBLIC_SCHEME", "https" if PRODUCTION else "http")
SMS_PUBLIC_PORT = os.environ.get("SMS_PUBLIC_PORT", "" if PRODUCTION else "8000")
ALLOWED_HOSTS = [SMS_BASE_DOMAIN, f".{SMS_BASE_DOMAIN}", *env_list("DJANGO_EXTRA_ALLOWED_HOSTS")]
if not PRODUCTION:
    ALLOWED_HOSTS += ["testserver", ".testserver"]

SHARED_APPS = [
    # Before django_tenants: its `migrate` and `migrate_schemas` commands are
    # replaced by sms_platform's (the first app listed wins a command name).
    "sms_platform",
    "django_tenants",
    "core",
    "tenants",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    # Registers OpClass for expression indexes (stock's search indexes).
    "django.contrib.postgres",
    "accounts",
    "allauth",
    "allauth.account",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "pgtrigger",
    "django_filters",
    "provisioning",
    "audit",
    # Country archives and restore drills (public schema).
    "backups",
]

TENANT_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "accounts",
    "allauth",
    "allauth.account",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "ledger",
    "stock",
    "custody",
    "audit",
    "administration",
    "odk",
    "reporting",
    "imports",
    # The training guides (Help menu): no models, templates and screenshots.
    "guides",
]

INSTALLED_APPS = list(SHARED_APPS) + [app for app in TENANT_APPS if app not in SHARED_APPS]

TENANT_MODEL = "tenants.Country"
TENANT_DOMAIN_MODEL = "tenants.Domain"
PUBLIC_SCHEMA_NAME = "public"
PUBLIC_SCHEMA_URLCONF = "sms_platform.urls_public"
ROOT_URLCONF = "sms_platform.urls_country"
TENANT_LIMIT_SET_CALLS = True
# Migrating many countries: one process per core.
TENANT_MULTIPROCESSING_MAX_PROCESSES = int(os.environ.get("SMS_MIGRATION_PROCESSES", "2"))
TENANT_MULTIPROCESSING_CHUNKS = 2

MIDDLEWARE = [
    "tenants.middleware.CountryMiddleware",  # first: picks the schema from the host
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy on every response (SECURE_CSP below).
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # After authentication: no-store on signed-in pages and on every download.
    "sms_platform.middleware.NoStoreMiddleware",
    "accounts.middleware.UserLanguageMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After authentication and messages: ends idle sessions and expired
    # support access, with a message saying why.
    "administration.middleware.SessionPolicyMiddleware",
    # Then: a session that now needs a second factor and has none opens
    # nothing but the pages to get one (accounts.middleware).
    "accounts.middleware.SecondFactorMiddleware",
    # Writes the access-log row of views that declare what they show
    # (core.access), after they answer; after the session policy, so a
    # session it ends shows nothing.
    "audit.middleware.AccessLogMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tenants.context_processors.country",
            ],
        },
    }
]

WSGI_APPLICATION = "sms_platform.wsgi.application"

# Content-Security-Policy (Django's own middleware): scripts, styles, images
# and fonts only from this host, as files — no inline <script>, no <style>
# element, no style="" or on…="" attribute anywhere (tests/sms_platform/
# test_headers.py reads the pages); no plugin, no framing, forms post only
# here. Everything is self-hosted (no CDN), so nothing else is needed.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}

# Two database roles (core.dbroles; README, "Database roles"): DATABASE_URL is
# the application's, which owns nothing; DATABASE_OWNER_URL, the owner of the
# database and every table, is used only by the commands that migrate or create
# schemas (migrate_schemas, provision_country, demo_setup,
# rebuild_report_totals). Production refuses to start when DATABASE_URL is a
# superuser or the owner.
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/sms"),
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
    )
}
SMS_DATABASE_OWNER_URL = os.environ.get("DATABASE_OWNER_URL", "")
# Kept apart: an owner command replaces the login in DATABASES["default"].
SMS_DATABASE_APP_ROLE = DATABASES["default"].get("USER") or ""
# django-tenants' backend, serialising trigger installs across parallel
# migrations (sms_platform/postgresql_backend).
DATABASES["default"]["ENGINE"] = "sms_platform.postgresql_backend"
DATABASE_ROUTERS = ["django_tenants.routers.TenantSyncRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # Django's, reading the permissions in one query (accounts.backends).
    "accounts.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# django-allauth: username or e-mail, no public sign-up (see accounts.adapters).
ACCOUNT_ADAPTER = "accounts.adapters.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "username*", "password1*", "password2*"]
# The address of record (User.email) is the only one that signs in or resets
# a password: the invitation link proves it; a new one replaces it only once
# its own link is opened (accounts.services.email_change_*). allauth's
# per-address verification (EmailAddress rows) is not used.
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = True
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_SESSION_REMEMBER = False
# Step-up before security changes: allauth's reauthentication, by password
# only, whose form (accounts.forms.StepUpForm) also asks the current code.
ACCOUNT_REAUTHENTICATION_METHODS = ("password",)
ACCOUNT_REAUTHENTICATION_TIMEOUT = 5 * 60
ACCOUNT_FORMS = {
    "reauthenticate": "accounts.forms.StepUpForm",
    "change_password": "accounts.forms.PasswordChangeForm",
    "reset_password": "accounts.forms.PasswordResetForm",
}
ACCOUNT_RATE_LIMITS = {
    # Per address. The lockout per account (5 failures in 5 minutes, whatever
    # identifier was typed) is accounts.throttle.passwords, in the adapter.
    "login_failed": "20/5m/ip",
    "reset_password": "5/h/ip,3/h/key",
}
LOGIN_URL = "account_login"
# How many reverse proxies of our own sit in front of Django (nginx: 1). The
# access log then takes the client address from X-Forwarded-For at that
# depth; with 0 it uses REMOTE_ADDR and ignores the header (it can be forged).
SMS_TRUSTED_PROXY_COUNT = int(os.environ.get("SMS_TRUSTED_PROXY_COUNT", "0"))
LOGIN_REDIRECT_URL = "/"
ACCOUNT_LOGOUT_REDIRECT_URL = "/accounts/login/"

OTP_TOTP_ISSUER = "SMS"
# Wrong codes are throttled per user in accounts.throttle (5 per 5 minutes,
# with a message saying so); django-otp's own silent back-off would also
# refuse a right code typed seconds after a wrong one, with no explanation.
OTP_TOTP_THROTTLE_FACTOR = 0
OTP_STATIC_THROTTLE_FACTOR = 0

# Sessions live in each schema (the table exists in public and in every
# country schema); cookies are host-only. Read from the cache (its keys carry
# the schema name), written through to the database: no query per request
# for the session, and nothing lost when the cache is emptied. Ending a
# session must go through the session engine (administration.services), so
# that the cached copy goes too.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
SESSION_COOKIE_AGE = int(os.environ.get("SMS_SESSION_SECONDS", str(8 * 3600)))
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_DOMAIN = None
# Flash messages ride in the (per-schema, __Host-) session rather than a cookie of their own.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"
CSRF_COOKIE_DOMAIN = None
# A refused form (CSRF) answers SMS's own page, in the user's language (core/error_pages.py).
CSRF_FAILURE_VIEW = "core.error_pages.csrf_failure"
# A whole store in one form: the receipt posts four fields per item on its
# way (outcome, seal, weight, note), the transfer picker one per item chosen.
# Django's default of 1,000 fields answered 400 to the receipt of a 300-item
# transfer; 24,000 covers a store of 6,000 items. The body stays capped by
# DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB: about 30,000 such fields).
DATA_UPLOAD_MAX_NUMBER_FIELDS = 24_000

# Production needs one cache shared by every process: sessions (cached_db)
# end everywhere when they end in one, and what a process keeps of the
# countries, stores and types (tenants.hosts, stock.catalogue) is dropped
# everywhere through it. A cache per process would keep an ended session,
# a suspended country or a removed store alive in the other processes.
# SMS_CACHE_PER_PROCESS=1 says a process serves nobody and keeps its own
# cache: the restore drill's commands on its scratch copy (backups.drill),
# which must not touch production's cache. Never for a web or Celery process.
if PRODUCTION and not os.environ.get("REDIS_URL") and not env_bool("SMS_CACHE_PER_PROCESS", False):
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(
        "SMS_ENV=production needs REDIS_URL: the cache every web process shares "
        "(see deploy/README.md)."
    )

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache"
        if os.environ.get("REDIS_URL")
        else "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": os.environ.get("REDIS_URL", "sms-local"),
        # Every key carries the schema name, so one country never reads another's entries.
        "KEY_FUNCTION": "django_tenants.cache.make_key",
        "REVERSE_KEY_FUNCTION": "django_tenants.cache.reverse_key",
    }
}

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("fr", _("French")), ("pt", _("Portuguese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"
# Dates as SMS's countries write them (day first, 24-hour clock): core/display.py.
FORMAT_MODULE_PATH = ["core.locale_formats"]

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]

# Country files (photos, reports) sit under MEDIA_ROOT/countries/<schema>/ and
# are only ever served through views that check permissions: no MEDIA_URL route.
MEDIA_ROOT = Path(os.environ.get("SMS_MEDIA_ROOT", BASE_DIR / "var" / "media"))
MEDIA_URL = "/media-not-served/"
MULTITENANT_RELATIVE_MEDIA_ROOT = "countries/%s"
# Photos: larger uploads are refused (stock.photos); the pixel limit stops
# decompression bombs before Pillow allocates the image.
SMS_PHOTO_MAX_BYTES = int(os.environ.get("SMS_PHOTO_MAX_BYTES", str(15 * 1024 * 1024)))
SMS_PHOTO_MAX_PIXELS = int(os.environ.get("SMS_PHOTO_MAX_PIXELS", str(60_000_000)))
STORAGES = {
    # Per-country prefix, never overwriting a stored file (tenants.storage).
    "default": {"BACKEND": "tenants.storage.CountryFileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
if os.environ.get("SMS_S3_BUCKET"):
    # The same layout in the bucket (countries/<schema>/…), written with
    # If-None-Match so no key is ever overwritten (tenants.s3storage).
    # Credentials: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (boto3 reads them).
    STORAGES["default"] = {
        "BACKEND": "tenants.s3storage.CountryS3Storage",
        "OPTIONS": {
            "bucket_name": os.environ["SMS_S3_BUCKET"],
            "endpoint_url": os.environ.get("SMS_S3_ENDPOINT_URL"),
            "region_name": os.environ.get("SMS_S3_REGION"),
            "default_acl": "private",
            "querystring_auth": True,
        },
    }

_mail_backend = os.environ.get(
    "DJANGO_EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if PRODUCTION
    else "django.core.mail.backends.console.EmailBackend",
)
MAILERS = {
    "default": {
        "BACKEND": _mail_backend,
        "OPTIONS": {
            "host": os.environ.get("EMAIL_HOST", "localhost"),
            "port": int(os.environ.get("EMAIL_PORT", "25")),
            "username": os.environ.get("EMAIL_HOST_USER", ""),
            "password": os.environ.get("EMAIL_HOST_PASSWORD", ""),
            "use_tls": env_bool("EMAIL_USE_TLS", False),
        }
        if _mail_backend.endswith("smtp.EmailBackend")
        else {},
    }
}
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", f"SMS <no-reply@{SMS_BASE_DOMAIN}>")

# Celery: with no broker configured, tasks run in-process so the demo works
# with nothing else running.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BEAT_SCHEDULER = "tenant_schemas_celery.scheduler:TenantAwareScheduler"

# The custody ledger's signing key (Ed25519, PEM): a file, never the database,
# so that someone with only the database password can't re-sign a rewritten
# entry (README, "The custody ledger"). Development creates one under var/ on
# first use; production refuses to start without it.
SMS_LEDGER_SIGNING_KEY_FILE = os.environ.get(
    "SMS_LEDGER_SIGNING_KEY_FILE",
    "" if PRODUCTION else str(BASE_DIR / "var" / "ledger-signing-key.pem"),
)
if PRODUCTION and not (
    SMS_LEDGER_SIGNING_KEY_FILE and os.access(SMS_LEDGER_SIGNING_KEY_FILE, os.R_OK)
):
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(
        "SMS_ENV=production needs SMS_LEDGER_SIGNING_KEY_FILE naming a readable file with "
        "the custody ledger's Ed25519 signing key (openssl genpkey -algorithm ed25519; "
        "see deploy/README.md)."
    )
# What the ledger's checks remember outside the database (ledger.witness): the
# last checkpoint kept and the one explicit signing of old entries. A writable
# directory of the worker and beat, never on the database host.
SMS_LEDGER_WITNESS_DIR = os.environ.get(
    "SMS_LEDGER_WITNESS_DIR", str(BASE_DIR / "var" / "ledger-witness")
)
SMS_LEDGER_CHECKPOINT_MAIL_HOUR = int(os.environ.get("SMS_LEDGER_CHECKPOINT_MAIL_HOUR", "5"))
# /health/ (sms_platform.health): how long a Celery worker may stay silent,
# how old the last pgBackRest backup may be (a differential runs daily), and
# where its `pgbackrest info --output=json` is read (a file the backup job
# writes, or the stanza through the pgbackrest command); neither set: "unknown".
SMS_HEALTH_CELERY_SILENCE_SECONDS = int(os.environ.get("SMS_HEALTH_CELERY_SILENCE_SECONDS", "120"))
SMS_BACKUP_MAX_AGE_HOURS = float(os.environ.get("SMS_BACKUP_MAX_AGE_HOURS", "36"))
SMS_BACKUP_INFO_FILE = os.environ.get("SMS_BACKUP_INFO_FILE", "")
SMS_PGBACKREST_STANZA = os.environ.get("SMS_PGBACKREST_STANZA", "")

# Secret used to encrypt stored third-party credentials (ODK Central).
SMS_FIELD_ENCRYPTION_KEY = os.environ.get("SMS_FIELD_ENCRYPTION_KEY", "" if PRODUCTION else "dev")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("SMS_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SMS_SSL_REDIRECT", True)
    # Probes (Kubernetes, compose, nginx) ask gunicorn directly over HTTP.
    SECURE_REDIRECT_EXEMPT = [r"^health/(ready/)?$"]
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    # __Host- cookies: Secure, path /, no Domain attribute, so they never leave this host.
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_REFERRER_POLICY = "same-origin"
    X_FRAME_OPTIONS = "DENY"

SENTRY_DSN = os.environ.get("SENTRY_DSN", "")
if SENTRY_DSN:
    import sentry_sdk

    sentry_sdk.init(
        dsn=SENTRY_DSN,
        environment=SMS_ENV,
        send_default_pii=False,
        traces_sample_rate=float(os.environ.get("SENTRY_TRACES_SAMPLE_RATE", "0")),
    )

# ODK Central: timeout (seconds) and retries of each HTTP request; the sync's
# beat interval (seconds); submissions per OData page.
SMS_ODK_HTTP_TIMEOUT = float(os.environ.get("SMS_ODK_HTTP_TIMEOUT", "60"))
SMS_ODK_HTTP_RETRIES = int(os.environ.get("SMS_ODK_HTTP_RETRIES", "3"))
# A person waiting on the ODK page: one try, this many seconds at most.
SMS_ODK_PAGE_TIMEOUT = float(os.environ.get("SMS_ODK_PAGE_TIMEOUT", "5"))
SMS_ODK_SYNC_SECONDS = int(os.environ.get("SMS_ODK_SYNC_SECONDS", "300"))
SMS_ODK_PAGE_SIZE = int(os.environ.get("SMS_ODK_PAGE_SIZE", "250"))
# ODK Central address (odk.central.checked_address): https:// only; plain
# http:// only to this machine and only in development (the tests' fake
# Central); in production no loopback, private or link-local address either,
# except hosts the operator lists (a Central on the deployment's own network).
# No environment switch turns http back on in production.
SMS_ODK_LOCAL_HTTP = not PRODUCTION
SMS_ODK_REFUSE_INTERNAL = PRODUCTION
SMS_ODK_INTERNAL_HOSTS = [host.lower() for host in env_list("SMS_ODK_INTERNAL_HOSTS")]

# Country archives and the restore drill (backups; README, "Backups, export
# and restore"). SMS_EXPORT_DIR: where export_country archives are kept (the
# drill restores the newest of each country, or makes a fresh one); the key
# the drill decrypts them with (a passphrase file or an X25519 private key).
SMS_EXPORT_DIR = os.environ.get("SMS_EXPORT_DIR", "")
SMS_EXPORT_PASSPHRASE_FILE = os.environ.get("SMS_EXPORT_PASSPHRASE_FILE", "")
SMS_EXPORT_IDENTITY_FILE = os.environ.get("SMS_EXPORT_IDENTITY_FILE", "")
# PostgreSQL client tools (pg_dump, pg_restore, psql) of the server's major
# version; by default /usr/lib/postgresql/<major>/bin, then PATH.
SMS_PG_BIN_DIR = os.environ.get("SMS_PG_BIN_DIR", "")
# Where the drill's backups come from (a class with a restored() context
# manager; a pgBackRest source plugs in here), the server it creates its
# scratch database on (default: production's server and role, which then
# needs CREATEDB), who gets its e-mail besides platform staff, and the age
# (days) past which the latest backup counts as a problem (0: no limit).
SMS_RESTORE_DRILL_SOURCE = os.environ.get("SMS_RESTORE_DRILL_SOURCE", "backups.drill.ExportSource")
SMS_RESTORE_DRILL_DATABASE_URL = os.environ.get("SMS_RESTORE_DRILL_DATABASE_URL", "")
SMS_RESTORE_DRILL_EMAILS = env_list("SMS_RESTORE_DRILL_EMAILS")
SMS_RESTORE_DRILL_MAX_AGE_DAYS = int(os.environ.get("SMS_RESTORE_DRILL_MAX_AGE_DAYS", "8"))
# The drill's pgBackRest source (backups.drill.PgBackRestSource): the
# repository's configuration file (the stanza is SMS_PGBACKREST_STANZA) and
# the media copies scripts/media_backup.sh writes (their latest/ is used).
SMS_PGBACKREST_CONFIG = os.environ.get("SMS_PGBACKREST_CONFIG", "")
SMS_MEDIA_BACKUP_DIR = os.environ.get("SMS_MEDIA_BACKUP_DIR", "")
