"""A country's whole data in one archive, and back (public schema; enters
the country's schema explicitly).

``country_export`` writes the schema (pg_dump of every table, in one
snapshot with the row counts and the ledger head it records), the country's
public rows and every file under its media prefix, then the manifest.
``country_import`` checks the archive completely before it touches anything,
writes the media files that are not there yet (never over one that is), and
restores the schema in one transaction that also checks the row counts and
the ledger head against the manifest — all of it or nothing. With
``replace`` the country's current schema is renamed aside in that same
transaction (kept, never dropped), so other countries are never touched and
the country itself is either as it was or as archived.
"""

import datetime
import json
import re
import subprocess
import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tenants.utils import get_public_schema_name, schema_context, schema_exists

from core.dbroles import grant_application_role
from core.fingerprints import sha256_of
from tenants.models import Country
from tenants.services import country_register_restored, country_update

from . import archive, pg
from .crypto import ArchiveError
from .ledgerhead import ledger_head, signing_key_fingerprint

ISO2 = re.compile(r"^[A-Z]{2}$")


class CountryTaken(ArchiveError):
    pass


def software_version() -> dict:
    """The version of SMS that wrote an archive: pyproject's, and git's
    description when the code is a checkout."""
    base = Path(settings.BASE_DIR)
    version = {"version": "unknown", "git": ""}
    try:
        with open(base / "pyproject.toml", "rb") as handle:
            version["version"] = tomllib.load(handle)["project"]["version"]
    except (OSError, KeyError, ValueError):
        pass
    try:
        result = subprocess.run(
            ["git", "-C", str(base), "describe", "--always", "--dirty", "--tags"],
            capture_output=True,
            text=True,
            timeout=10,
        )
        if result.returncode == 0:
            version["git"] = result.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    return version


def _require_public() -> None:
    if connection.schema_name != get_public_schema_name():
        raise RuntimeError("Archives are written and read from the public schema.")


def schema_tables(schema: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = %s ORDER BY tablename", [schema]
        )
        return [row[0] for row in cursor.fetchall()]


def table_counts(schema: str) -> dict[str, int]:
    """Rows of every table of ``schema`` (in the caller's snapshot)."""
    counts = {}
    with connection.cursor() as cursor:
        for table in schema_tables(schema):
            cursor.execute(f"SELECT count(*) FROM {pg.quoted(schema)}.{pg.quoted(table)}")  # noqa: S608
            counts[table] = cursor.fetchone()[0]
    return counts


def _applied_migrations(schema: str) -> list[list[str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT app, name FROM {pg.quoted(schema)}.django_migrations ORDER BY id"  # noqa: S608
        )
        return [list(row) for row in cursor.fetchall()]


def media_names(prefix: str = "") -> list[str]:
    """Every file under the current country's media prefix (any storage)."""
    names = []
    try:
        folders, files = default_storage.listdir(prefix)
    except FileNotFoundError:
        return names
    names.extend(f"{prefix}{name}" for name in files)
    for folder in folders:
        names.extend(media_names(f"{prefix}{folder}/"))
    return sorted(names)


def _country_rows(country: Country) -> dict:
    values = {
        f.name: f.value_from_object(country)
        for f in Country._meta.concrete_fields
        if f.name not in ("id",)
    }
    domains = list(country.domains.order_by("domain").values("domain", "is_primary"))
    return json.loads(json.dumps({"country": values, "domains": domains}, cls=DjangoJSONEncoder))


@dataclass
class ExportResult:
    path: Path
    manifest: dict


def country_export(*, code: str, output: Path, encryption) -> ExportResult:
    """Write country ``code``'s archive to ``output`` (a new file)."""
    _require_public()
    if connection.in_atomic_block:
        raise RuntimeError("country_export takes its own snapshot: call it outside a transaction.")
    country = Country.objects.filter(code=code.upper()).first()
    if country is None:
        raise ArchiveError(_("No country %(code)s in this deployment.") % {"code": code.upper()})
    schema = country.schema_name
    pg.quoted(schema)
    major = pg.server_major()
    writer = archive.ArchiveWriter(Path(output), encryption=encryption)
    try:
        with tempfile.TemporaryDirectory(prefix="sms-export-") as work:
            dump = Path(work) / archive.SCHEMA_DUMP
            # One snapshot for the dump, the counts and the ledger head, so the
            # manifest describes exactly the rows in the dump.
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                    cursor.execute("SELECT pg_export_snapshot()")
                    snapshot = cursor.fetchone()[0]
                counts = table_counts(schema)
                migrations = _applied_migrations(schema)
                with schema_context(schema):
                    ledger = ledger_head()
                pg.dump_schema(schema=schema, path=dump, snapshot=snapshot, major=major)
            writer.add_path(archive.SCHEMA_DUMP, dump)
        writer.add_bytes(
            archive.COUNTRY_ROWS,
            json.dumps(_country_rows(country), indent=2, sort_keys=True).encode("utf-8"),
        )
        media_bytes = 0
        with schema_context(schema):
            names = media_names()
            for name in names:
                with default_storage.open(name, "rb") as handle:
                    size = default_storage.size(name)
                    writer.add(f"{archive.MEDIA}/{name}", handle, size)
                    media_bytes += size
        manifest = writer.close(
            {
                "country": {"code": country.code, "schema": schema, "name": country.name},
                "created_at": timezone.now().astimezone(datetime.UTC).isoformat(),
                "software": software_version(),
                "postgresql": {"server": pg.server_version(), "major": major},
                "tables": counts,
                "migrations": migrations,
                "ledger": ledger,
                "media": {"files": len(names), "bytes": media_bytes},
            }
        )
    except BaseException:
        writer.abort()
        raise
    return ExportResult(path=Path(output), manifest=manifest)


# --- Import -------------------------------------------------------------------------------


@dataclass
class ImportResult:
    country: Country
    manifest: dict
    replaced_schema: str = ""
    media_written: int = 0
    media_present: int = 0
    migrated: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _validate_country_values(code: str, values: dict) -> None:
    """The archived Country's settings must be valid here, checked before
    anything is written."""
    known = {f.name for f in Country._meta.concrete_fields}
    candidate = Country(
        code=code,
        schema_name=code.lower(),
        **{k: v for k, v in values.items() if k in known and k not in ("code", "created_at")},
    )
    try:
        candidate.full_clean(exclude=["created_at"], validate_unique=False)
    except ValidationError as exc:
        raise ArchiveError(
            _("The archive's country settings are not valid here: %(errors)s")
            % {"errors": "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())}
        ) from exc


def _known_migrations() -> set[tuple[str, str]]:
    return set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)


def _check_sql(*, schema: str, manifest: dict) -> str:
    """A DO block, run last in the restore's transaction: the restored schema
    holds exactly the manifest's tables, row counts and ledger head, or the
    whole restore (and the swap) is rolled back."""
    tables = manifest.get("tables") or {}
    # Every name passes pg.quoted's whitelist (plain lower-case identifiers)
    # and every number is an int: nothing from the archive reaches the SQL as is.
    pg.quoted(schema)
    lines = [
        "DO $sms_check$",
        "DECLARE n bigint; h text;",
        "BEGIN",
        f"  SELECT count(*) INTO n FROM pg_tables WHERE schemaname = '{schema}';",  # noqa: S608
        f"  IF n <> {len(tables)} THEN RAISE EXCEPTION 'sms: % tables restored, the manifest "
        f"lists {len(tables)}', n; END IF;",
    ]
    for table, count in sorted(tables.items()):
        name = f"{pg.quoted(schema)}.{pg.quoted(table)}"
        lines += [
            f"  SELECT count(*) INTO n FROM {name};",  # noqa: S608
            f"  IF n <> {int(count)} THEN RAISE EXCEPTION 'sms: {table} has % rows, the "
            f"manifest says {int(count)}', n; END IF;",
        ]
    ledger = manifest.get("ledger") or {}
    if "custody_ledgerhead" in tables and int(tables["custody_ledgerhead"]) > 0:
        sequence, head_hash = int(ledger.get("sequence", 0)), str(ledger.get("hash", ""))
        if not re.fullmatch(r"[0-9a-f]{64}", head_hash):
            raise ArchiveError(_("The manifest's ledger head is not a hash."))
        lines += [
            f"  SELECT last_sequence || ':' || last_hash INTO h FROM {pg.quoted(schema)}"  # noqa: S608
            ".custody_ledgerhead WHERE id = 1;",
            f"  IF h IS DISTINCT FROM '{sequence}:{head_hash}' THEN RAISE EXCEPTION "
            f"'sms: the ledger head is %, the manifest says {sequence}', h; END IF;",
        ]
    lines += ["END", "$sms_check$;"]
    return "\n".join(lines)


def _media_files(manifest: dict) -> list[str]:
    prefix = archive.MEDIA + "/"
    return sorted(name[len(prefix) :] for name in manifest["files"] if name.startswith(prefix))


def _media_restore(*, schema: str, manifest: dict, unpacked: Path) -> tuple[int, int]:
    """Write the archive's files that are missing; a file already there must
    hold the same bytes (it is never overwritten). Checked for every file
    before the first is written. Returns (written, already there)."""
    names = _media_files(manifest)
    missing, conflicts = [], []
    with schema_context(schema):
        for name in names:
            if not default_storage.exists(name):
                missing.append(name)
                continue
            with default_storage.open(name, "rb") as handle:
                if sha256_of(handle) != manifest["files"][f"{archive.MEDIA}/{name}"]["sha256"]:
                    conflicts.append(name)
        if conflicts:
            raise ArchiveError(
                _(
                    "%(count)s file(s) of the archive exist in this deployment's media with "
                    "other contents (they are never overwritten): %(names)s"
                )
                % {"count": len(conflicts), "names": ", ".join(conflicts[:5])}
            )
        for name in missing:
            with open(unpacked / archive.MEDIA / name, "rb") as handle:
                saved = default_storage.save(name, File(handle, name=name))
            if saved != name:
                raise ArchiveError(
                    _("%(name)s was stored as %(saved)s: another file took its name meanwhile.")
                    % {"name": name, "saved": saved}
                )
    return len(missing), len(names) - len(missing)


def _drop_schema(schema: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP SCHEMA {pg.quoted(schema)} CASCADE")


def _undo_restore(*, schema: str, replaced: str) -> None:
    """Put things back as they were before the restore committed."""
    with transaction.atomic():
        _drop_schema(schema)
        if replaced:
            with connection.cursor() as cursor:
                cursor.execute(f"ALTER SCHEMA {pg.quoted(replaced)} RENAME TO {pg.quoted(schema)}")


def country_import(
    *, path: Path, decryption, replace: bool = False, workdir: Path | None = None
) -> ImportResult:
    """Recreate the archived country here, identical; or, with ``replace``,
    restore it over the existing country of that code."""
    _require_public()
    with tempfile.TemporaryDirectory(prefix="sms-import-", dir=workdir) as work:
        unpacked = Path(work)
        manifest = archive.unpack(Path(path), decryption=decryption, into=unpacked)
        code = str((manifest.get("country") or {}).get("code", ""))
        if not ISO2.match(code):
            raise ArchiveError(_("The manifest names no valid country code."))
        schema = code.lower()
        existing = Country.objects.filter(code=code).first()
        if replace and existing is None:
            raise ArchiveError(
                _("There is no country %(code)s here to replace: import without --replace.")
                % {"code": code}
            )
        if not replace and (existing is not None or schema_exists(schema)):
            raise CountryTaken(
                _(
                    "The code %(code)s is taken in this deployment (schema %(schema)s exists): "
                    "nothing was imported. To restore the archive over that country, use "
                    "--replace."
                )
                % {"code": code, "schema": schema}
            )
        known = _known_migrations()
        archived = {tuple(m) for m in manifest.get("migrations") or []}
        newer = sorted(archived - known)
        if newer:
            raise ArchiveError(
                _(
                    "The archive was made by a newer version of SMS (migrations unknown here: "
                    "%(names)s). Upgrade this deployment first."
                )
                % {"names": ", ".join(".".join(m) for m in newer[:5])}
            )
        result = ImportResult(country=existing, manifest=manifest)
        result.warnings = _ledger_key_warnings(manifest, schema)
        rows = json.loads((unpacked / archive.COUNTRY_ROWS).read_text(encoding="utf-8"))
        values = {k: v for k, v in rows["country"].items() if k not in ("id", "schema_name")}
        _validate_country_values(code, values)
        result.media_written, result.media_present = _media_restore(
            schema=schema, manifest=manifest, unpacked=unpacked
        )
        replaced = ""
        before = ""
        if replace:
            stamp = timezone.now().strftime("%Y%m%dt%H%M%S")
            replaced = f"{schema}_replaced_{stamp}"
            before = f"ALTER SCHEMA {pg.quoted(schema)} RENAME TO {pg.quoted(replaced)};"
        pg.restore_in_one_transaction(
            dump=unpacked / archive.SCHEMA_DUMP,
            before_sql=before,
            after_sql=_check_sql(schema=schema, manifest=manifest),
            major=pg.server_major(),
        )
        result.replaced_schema = replaced
        try:
            if replace:
                settable = {f.name for f in Country._meta.concrete_fields} - {
                    "id",
                    "schema_name",
                    "code",
                    "created_at",
                }
                country_update(
                    country=existing, **{k: v for k, v in values.items() if k in settable}
                )
                result.country = existing
            else:
                result.country = country_register_restored(code=code, values=values)
        except Exception:
            _undo_restore(schema=schema, replaced=replaced)
            raise
        # The archive carries no grants: the application role's, as for any new
        # country; the replaced schema is no country's any more, it gets none.
        grant_application_role(schema_name=schema)
        if replaced:
            grant_application_role(schema_name=replaced)
        # django-tenants records every app's migrations in each schema.
        missing = sorted(known - archived)
        if missing:
            call_command(
                "migrate_schemas",
                schema_name=schema,
                executor="standard",
                interactive=False,
                verbosity=0,
            )
            connection.set_schema_to_public()
            result.migrated = [".".join(m) for m in missing]
    return result


def _ledger_key_warnings(manifest: dict, schema: str) -> list[str]:
    """When the archive's ledger was signed with another key than this
    deployment's key for the country, its signatures won't verify here."""
    ledger = manifest.get("ledger") or {}
    theirs = ledger.get("key_fingerprint")
    if not theirs:
        return []
    ours = signing_key_fingerprint(schema)
    if ours is None or ours == theirs:
        return []
    return [
        _(
            "The archive's ledger entries were signed with key %(theirs)s; this deployment's "
            "key for the country is %(ours)s. Their signatures verify only once the "
            "country's signing key is installed here."
        )
        % {"theirs": theirs, "ours": ours}
    ]
