"""The inventory protocol file: its schema and its validation (no database).

A protocol is YAML. ``protocol_load`` parses and validates the whole file and
either returns a ``Protocol`` or raises ``ProtocolInvalid`` listing every
problem as ``key.path: what is wrong``; nothing touches the database before
the file is known to be good. The README ("Inventory protocol") documents
every key.
"""

import os
import re
import zoneinfo
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal

import yaml
from django.conf import settings
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.utils import translation
from django.utils.translation import gettext as _
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)
from pydantic import ValidationError as PydanticValidationError

from stock.models import CITES_CLASSES_BY_KIND, WHOLE_CITES_CLASSES, CitesClass, StockItem
from stock.services import ITEM_FIELDS

SLUG = r"^[a-z0-9][a-z0-9_-]*$"
# Custom field keys become JSON keys and ODK question names: XML-name safe.
FIELD_KEY = r"^[a-z][a-z0-9_]*$"
CHOICE_VALUE = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
MARK_PLACEHOLDERS = ("country", "yy", "yyyy", "serial", "weight")
# The CITES class an item type declares, per category kind (the vocabulary
# is stock's: the declarations file each type under its class).
CITES_CLASSES = {kind: tuple(map(str, classes)) for kind, classes in CITES_CLASSES_BY_KIND.items()}


@dataclass(frozen=True)
class ProtocolIssue:
    path: str
    message: str

    def __str__(self):
        return f"{self.path}: {self.message}" if self.path else self.message


class ProtocolInvalid(ValueError):
    def __init__(self, issues: list[ProtocolIssue]):
        self.issues = issues
        super().__init__("\n".join(str(issue) for issue in issues))


def _pattern(regex: str, what):
    def check(value: str) -> str:
        if not re.match(regex, value):
            raise ValueError(what() % {"value": value})
        return value

    return AfterValidator(check)


def _slug_message():
    return _('"%(value)s": use lower-case letters, digits, "-" and "_"')


Code = Annotated[str, Field(min_length=1, max_length=32), _pattern(SLUG, _slug_message)]


class _Spec(BaseModel):
    # Unknown keys are refused: a typo ("aplies_to") must not be silently ignored.
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


Labels = dict[str, Annotated[str, Field(min_length=1, max_length=200)]]


class CountrySpec(_Spec):
    code: str
    name: str = Field(min_length=1, max_length=100)
    languages: list[str] = Field(min_length=1)
    default_language: str
    time_zone: str = "UTC"
    two_factor_policy: Literal["admins", "everyone"] = "admins"

    @field_validator("code")
    @classmethod
    def _code(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z]{2}", value):
            raise ValueError(_('"%(value)s" is not a two-letter ISO code') % {"value": value})
        return value.upper()

    @field_validator("time_zone")
    @classmethod
    def _time_zone(cls, value: str) -> str:
        if value not in zoneinfo.available_timezones():
            raise ValueError(
                _('"%(value)s" is not a time zone name such as "Africa/Nairobi"') % {"value": value}
            )
        return value


class Gps(_Spec):
    lat: Decimal = Field(ge=-90, le=90)
    lon: Decimal = Field(ge=-180, le=180)


class SiteSpec(_Spec):
    code: Code
    name: str = Field(min_length=1, max_length=150)
    region: str = Field(default="", max_length=100)
    gps: Gps | None = None
    custodian: str = Field(default="", max_length=150)
    active: bool = True


class TypeSpec(_Spec):
    code: Code
    labels: Labels = Field(min_length=1)
    counting: Literal["piece", "lot"] = "piece"
    marking: Literal["none", "always", "cites_ivory"] = "none"
    # A whole tusk or horn: Res. Conf. 10.10 marks it whatever its size.
    whole: bool = False
    # Required for ivory, rhino horn and pangolin types (CITES_CLASSES).
    cites_class: Literal[tuple(CitesClass.values)] | None = None  # type: ignore[valid-type]
    active: bool = True


class CategorySpec(_Spec):
    code: Code
    kind: Literal["ivory", "rhino_horn", "pangolin", "skin", "weapon", "other"]
    labels: Labels = Field(min_length=1)
    mark_pattern: str = Field(default="", max_length=100)
    types: list[TypeSpec] = Field(min_length=1)
    active: bool = True

    @field_validator("mark_pattern")
    @classmethod
    def _mark_pattern(cls, value: str) -> str:
        # Same syntax as stock.marks: {name} or {name:width}.
        if not value:
            return value
        if value.count("{") != value.count("}"):
            raise ValueError(_("unbalanced braces in the pattern"))
        names = []
        for placeholder in re.findall(r"\{([^{}]*)\}", value):
            match = re.fullmatch(r"(\w+)(?::\d+)?", placeholder)
            if not match or match.group(1) not in MARK_PLACEHOLDERS:
                raise ValueError(
                    _('unknown placeholder "{%(name)s}"; use %(known)s')
                    % {
                        "name": placeholder,
                        "known": ", ".join("{" + name + "}" for name in MARK_PLACEHOLDERS),
                    }
                )
            names.append(match.group(1))
        if "serial" not in names:
            raise ValueError(_("the pattern needs a {serial}"))
        return value


class ChoiceSpec(_Spec):
    value: Annotated[
        str,
        Field(min_length=1, max_length=64),
        _pattern(CHOICE_VALUE, lambda: _('"%(value)s": use letters, digits, ".", "-" and "_"')),
    ]
    labels: Labels = Field(min_length=1)


class CustomFieldSpec(_Spec):
    key: Annotated[
        str,
        Field(min_length=1, max_length=64),
        _pattern(
            FIELD_KEY,
            lambda: _('"%(value)s": start with a letter; use lower-case letters, digits and "_"'),
        ),
    ]
    labels: Labels = Field(min_length=1)
    type: Literal["text", "integer", "decimal", "date", "choice", "multi_choice", "boolean"]
    unit: str = Field(default="", max_length=32)
    required: bool = False
    choices: list[ChoiceSpec] = []
    # None: every item type of the country.
    applies_to: list[str] | None = None
    order: int | None = Field(default=None, ge=0)
    active: bool = True


class AdministratorSpec(_Spec):
    full_name: str = Field(min_length=1, max_length=150)
    email: str = Field(max_length=254)
    username: str | None = Field(default=None, min_length=1, max_length=150)

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        try:
            validate_email(value)
        except DjangoValidationError as exc:
            raise ValueError(_('"%(value)s" is not an e-mail address') % {"value": value}) from exc
        return value.lower()

    @field_validator("username")
    @classmethod
    def _username(cls, value: str | None) -> str | None:
        if value is None:
            return value
        try:
            UnicodeUsernameValidator()(value)
        except DjangoValidationError as exc:
            raise ValueError(
                _('"%(value)s": use letters, digits and @ . + - _ only') % {"value": value}
            ) from exc
        return value

    @property
    def login(self) -> str:
        """The username: given, or the e-mail address (unique by construction)."""
        return self.username or self.email


ENV_NAME = r"^[A-Z_][A-Z0-9_]*$"


class OdkSpec(_Spec):
    """The country's ODK Central connection (optional). The password is never
    in the file: ``password_env`` names the environment variable holding it."""

    url: str = Field(min_length=1, max_length=200)
    username: str = Field(max_length=254)
    password_env: Annotated[
        str,
        Field(min_length=1, max_length=100),
        _pattern(ENV_NAME, lambda: _('"%(value)s": use capital letters, digits and "_"')),
    ]
    project_name: str = Field(default="", max_length=200)
    project_id: int | None = Field(default=None, ge=1)

    @model_validator(mode="before")
    @classmethod
    def _no_password(cls, data):
        if isinstance(data, dict) and "password" in data:
            raise ValueError(
                _(
                    "never write the Central password in the file: put it in an environment "
                    "variable and name that variable in password_env"
                )
            )
        return data

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError(
                _('"%(value)s": the address of ODK Central, starting with https://')
                % {"value": value}
            )
        value = value.rstrip("/")
        return value[: -len("/v1")] if value.endswith("/v1") else value

    @field_validator("username")
    @classmethod
    def _email(cls, value: str) -> str:
        try:
            validate_email(value)
        except DjangoValidationError as exc:
            raise ValueError(_('"%(value)s" is not an e-mail address') % {"value": value}) from exc
        return value


class Protocol(_Spec):
    country: CountrySpec
    sites: list[SiteSpec] = Field(min_length=1)
    categories: list[CategorySpec] = Field(min_length=1)
    custom_fields: list[CustomFieldSpec] = []
    administrators: list[AdministratorSpec] = Field(min_length=1)
    odk: OdkSpec | None = None

    def item_types(self) -> list[tuple[CategorySpec, TypeSpec]]:
        return [
            (category, item_type) for category in self.categories for item_type in category.types
        ]


# --- loading ---------------------------------------------------------------


def protocol_load(source: str | Path) -> Protocol:
    """Parse and validate a protocol file (a path) or its text (a str)."""
    if isinstance(source, Path):
        try:
            text = source.read_text(encoding="utf-8")
        except OSError as exc:
            raise ProtocolInvalid(
                [
                    ProtocolIssue(
                        "",
                        _("cannot read %(path)s: %(error)s")
                        % {"path": source, "error": exc.strerror or exc},
                    )
                ]
            ) from exc
        except UnicodeDecodeError as exc:
            raise ProtocolInvalid([ProtocolIssue("", _("the file is not UTF-8 text"))]) from exc
    else:
        text = source
    return protocol_parse(text)


def protocol_parse(text: str) -> Protocol:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ProtocolInvalid([_yaml_issue(exc)]) from exc
    if not isinstance(data, dict):
        raise ProtocolInvalid(
            [
                ProtocolIssue(
                    "",
                    _(
                        "the protocol must be a mapping with the keys country, sites, "
                        "categories, custom_fields and administrators"
                    ),
                )
            ]
        )
    try:
        protocol = Protocol.model_validate(data)
    except PydanticValidationError as exc:
        raise ProtocolInvalid([_pydantic_issue(error) for error in exc.errors()]) from exc
    issues = _semantic_issues(protocol)
    if issues:
        raise ProtocolInvalid(issues)
    return protocol


def _yaml_issue(exc: yaml.YAMLError) -> ProtocolIssue:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    if mark is not None:
        return ProtocolIssue(
            "",
            _("YAML syntax error at line %(line)s, column %(column)s: %(problem)s")
            % {"line": mark.line + 1, "column": mark.column + 1, "problem": problem},
        )
    return ProtocolIssue("", _("YAML syntax error: %(problem)s") % {"problem": problem})


def _path(loc) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _pydantic_issue(error: dict) -> ProtocolIssue:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    value = error.get("input")
    # pydantic adds the union/type branch it tried to the location; drop it.
    loc = [
        part
        for part in error["loc"]
        if not (isinstance(part, str) and part in {"str", "list[str]", "Gps", "constrained-str"})
    ]
    if kind == "missing":
        message = _("this key is required")
    elif kind == "extra_forbidden":
        message = _("unknown key")
    elif kind == "value_error":
        message = str(ctx.get("error", error["msg"]))
    elif kind == "string_type":
        message = _("must be text")
        if isinstance(value, (bool, int, float)):
            # YAML reads NO, yes, 01... as booleans and numbers.
            message += " " + _("(put it in quotes)")
    elif kind in {"bool_type", "bool_parsing"}:
        message = _("must be true or false")
    elif kind in {"int_type", "int_parsing", "int_from_float", "decimal_type", "decimal_parsing"}:
        message = _("must be a number")
    elif kind == "literal_error":
        message = _('"%(value)s" is not one of: %(expected)s') % {
            "value": value,
            "expected": ctx.get("expected", "").replace("'", ""),
        }
    elif kind == "list_type":
        message = _("must be a list")
    elif kind in {"dict_type", "model_type", "model_attributes_type"}:
        message = _("must be a mapping of keys to values")
    elif kind == "too_short" and ctx.get("min_length") == 1:
        message = _("must not be empty")
    elif kind == "too_short":
        message = _("must have at least %(min)s entries") % {"min": ctx.get("min_length")}
    elif kind == "string_too_short":
        message = _("must not be empty")
    elif kind == "string_too_long":
        message = _("must be at most %(max)s characters") % {"max": ctx.get("max_length")}
    elif kind in {"greater_than_equal", "greater_than"}:
        message = _("must be at least %(limit)s") % {"limit": ctx.get("ge", ctx.get("gt"))}
    elif kind in {"less_than_equal", "less_than"}:
        message = _("must be at most %(limit)s") % {"limit": ctx.get("le", ctx.get("lt"))}
    else:
        message = error["msg"]
    return ProtocolIssue(_path(loc), message)


# Words that make a label a count of something: "Number of bags" asks for
# the built-in "Bags".
_COUNT_WORDS = re.compile(
    r"^(number of|no\.? of|count of|nombre de|nombre d'|nb\.? de|n° de)\s*", re.IGNORECASE
)


def _normalized(text: str) -> str:
    """A label or key reduced to what it names: lower case, spaces for _ and
    -, without "number of" and a plural s ("Number of bags" -> "bag")."""
    text = re.sub(r"[\s_\-]+", " ", str(text)).strip().lower()
    text = _COUNT_WORDS.sub("", text).strip()
    text = re.sub(r"\s+(count|number)$", "", text)
    return " ".join(
        word[:-1] if len(word) > 3 and word.endswith("s") else word for word in text.split()
    )


def _built_in_fields(languages: list[str]) -> dict[str, str]:
    """{normalized name or label: the built-in field's label} for every field
    an item has without custom fields, in each of the country's languages."""
    names = (*ITEM_FIELDS, "cites_mark")
    found: dict[str, str] = {}
    for name in names:
        field = StockItem._meta.get_field(name)
        found.setdefault(_normalized(name), str(field.verbose_name))
        for language in languages:
            with translation.override(language):
                label = str(field.verbose_name)
            found.setdefault(_normalized(label), label)
    return found


def _repeats_built_in(field, built_in: dict[str, str]) -> str:
    """The built-in field a custom field repeats (by key or by a label), or ""."""
    for text in (field.key, *field.labels.values()):
        match = built_in.get(_normalized(text))
        if match:
            return match
    return ""


def _semantic_issues(protocol: Protocol) -> list[ProtocolIssue]:
    """Checks across keys: uniqueness, references, languages."""
    issues: list[ProtocolIssue] = []
    country = protocol.country
    supported = {code for code, _name in settings.LANGUAGES}

    if protocol.odk is not None and not os.environ.get(protocol.odk.password_env):
        issues.append(
            ProtocolIssue(
                "odk.password_env",
                _("the environment variable %(name)s is not set (it holds the Central password)")
                % {"name": protocol.odk.password_env},
            )
        )

    seen_languages = set()
    for index, language in enumerate(country.languages):
        if language not in supported:
            issues.append(
                ProtocolIssue(
                    f"country.languages[{index}]",
                    _('"%(value)s" is not a language SMS speaks yet (%(supported)s)')
                    % {"value": language, "supported": ", ".join(sorted(supported))},
                )
            )
        if language in seen_languages:
            issues.append(
                ProtocolIssue(f"country.languages[{index}]", _("this language is listed twice"))
            )
        seen_languages.add(language)
    if country.default_language not in country.languages:
        issues.append(
            ProtocolIssue(
                "country.default_language",
                _('"%(value)s" is not in country.languages') % {"value": country.default_language},
            )
        )

    def check_labels(path: str, labels: dict[str, str]):
        for language in labels:
            if language not in country.languages:
                issues.append(
                    ProtocolIssue(
                        f"{path}.{language}",
                        _('"%(value)s" is not one of the country\'s languages (%(languages)s)')
                        % {"value": language, "languages": ", ".join(country.languages)},
                    )
                )
        if country.default_language not in labels:
            issues.append(
                ProtocolIssue(
                    path,
                    _("a label in the default language (%(language)s) is required")
                    % {"language": country.default_language},
                )
            )

    def check_unique(seen: dict, value, path: str, message: str):
        if value in seen:
            issues.append(ProtocolIssue(path, message % {"first": seen[value]}))
        else:
            seen[value] = path

    codes: dict = {}
    for index, site in enumerate(protocol.sites):
        check_unique(
            codes,
            site.code,
            f"sites[{index}].code",
            _("this code is used twice (first at %(first)s)"),
        )

    category_codes: dict = {}
    type_codes: dict = {}
    for c_index, category in enumerate(protocol.categories):
        c_path = f"categories[{c_index}]"
        check_unique(
            category_codes,
            category.code,
            f"{c_path}.code",
            _("this code is used twice (first at %(first)s)"),
        )
        check_labels(f"{c_path}.labels", category.labels)
        for t_index, item_type in enumerate(category.types):
            t_path = f"{c_path}.types[{t_index}]"
            # Item type codes are unique in the whole country, not per category.
            check_unique(
                type_codes,
                item_type.code,
                f"{t_path}.code",
                _("this type code is used twice (first at %(first)s)"),
            )
            check_labels(f"{t_path}.labels", item_type.labels)
            issues.extend(_cites_class_issues(category, item_type, t_path))
            if item_type.marking != "none" and not category.mark_pattern:
                issues.append(
                    ProtocolIssue(
                        f"{c_path}.mark_pattern",
                        _("required because type %(type)s is marked") % {"type": item_type.code},
                    )
                )

    built_in = _built_in_fields(country.languages)
    field_keys: dict = {}
    for f_index, field in enumerate(protocol.custom_fields):
        f_path = f"custom_fields[{f_index}]"
        check_unique(
            field_keys, field.key, f"{f_path}.key", _("this key is used twice (first at %(first)s)")
        )
        repeated = _repeats_built_in(field, built_in)
        if repeated:
            issues.append(
                ProtocolIssue(
                    f"{f_path}.key",
                    _(
                        'repeats the built-in field "%(field)s": every item already has it, '
                        "remove this custom field"
                    )
                    % {"field": repeated},
                )
            )
        check_labels(f"{f_path}.labels", field.labels)
        is_choice = field.type in {"choice", "multi_choice"}
        if is_choice and not field.choices:
            issues.append(
                ProtocolIssue(
                    f"{f_path}.choices",
                    _("a %(type)s field needs at least one choice") % {"type": field.type},
                )
            )
        if not is_choice and field.choices:
            issues.append(
                ProtocolIssue(
                    f"{f_path}.choices",
                    _("only choice and multi_choice fields have choices"),
                )
            )
        values: dict = {}
        for ch_index, choice in enumerate(field.choices):
            check_unique(
                values,
                choice.value,
                f"{f_path}.choices[{ch_index}].value",
                _("this value is used twice (first at %(first)s)"),
            )
            check_labels(f"{f_path}.choices[{ch_index}].labels", choice.labels)
        for a_index, code in enumerate(field.applies_to or []):
            if code not in type_codes:
                issues.append(
                    ProtocolIssue(
                        f"{f_path}.applies_to[{a_index}]",
                        _('unknown item type "%(value)s"') % {"value": code},
                    )
                )
        if field.applies_to is not None and len(set(field.applies_to)) != len(field.applies_to):
            issues.append(ProtocolIssue(f"{f_path}.applies_to", _("an item type is listed twice")))

    emails: dict = {}
    logins: dict = {}
    for a_index, admin in enumerate(protocol.administrators):
        a_path = f"administrators[{a_index}]"
        check_unique(
            emails,
            admin.email,
            f"{a_path}.email",
            _("this address is used twice (first at %(first)s)"),
        )
        check_unique(
            logins,
            admin.login.lower(),
            f"{a_path}.username",
            _("this username is used twice (first at %(first)s)"),
        )
    return issues


def _cites_class_issues(category, item_type, path: str) -> list[ProtocolIssue]:
    """A type of a CITES category declares its class, one of its kind's; the
    declarations never guess it from the code or the label."""
    allowed = CITES_CLASSES.get(category.kind)
    declared = item_type.cites_class
    if allowed is None:
        if declared:
            return [
                ProtocolIssue(
                    f"{path}.cites_class",
                    _("type %(type)s: a %(kind)s category has no CITES class; remove it")
                    % {"type": item_type.code, "kind": category.kind},
                )
            ]
        return []
    if not declared:
        return [
            ProtocolIssue(
                f"{path}.cites_class",
                _("type %(type)s needs its CITES class, one of %(classes)s")
                % {"type": item_type.code, "classes": ", ".join(allowed)},
            )
        ]
    if declared not in allowed:
        return [
            ProtocolIssue(
                f"{path}.cites_class",
                _("type %(type)s: %(class)s is not a class of %(kind)s; use one of %(classes)s")
                % {
                    "type": item_type.code,
                    "class": declared,
                    "kind": category.kind,
                    "classes": ", ".join(allowed),
                },
            )
        ]
    if item_type.whole and declared not in WHOLE_CITES_CLASSES:
        return [
            ProtocolIssue(
                f"{path}.whole",
                _("type %(type)s is whole but its CITES class %(class)s is not a whole one")
                % {"type": item_type.code, "class": declared},
            )
        ]
    return []
