"""Start-up check: every view routed on a country host or the public host
declares what it shows for the access log (core.access). The same walk is
what tests/audit/test_checks.py asserts on."""

from django.conf import settings
from django.core import checks
from django.urls import URLPattern, URLResolver, get_resolver

from core.access import declaration_of_callback


def routed_views(urlconf: str):
    """(route, name with its namespaces, callback) of every URL pattern of ``urlconf``."""

    def walk(patterns, prefix, namespace):
        for entry in patterns:
            route = prefix + str(entry.pattern)
            if isinstance(entry, URLResolver):
                inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
                yield from walk(entry.url_patterns, route, inner)
            elif isinstance(entry, URLPattern):
                yield route, f"{namespace}{entry.name}", entry.callback

    yield from walk(get_resolver(urlconf).url_patterns, "/", "")


def url_confs() -> list[str]:
    return [settings.ROOT_URLCONF, settings.PUBLIC_SCHEMA_URLCONF]


def undeclared_views() -> list[str]:
    missing = []
    for urlconf in url_confs():
        for route, name, callback in routed_views(urlconf):
            if declaration_of_callback(callback) is None:
                where = f"{callback.__module__}.{getattr(callback, '__qualname__', callback)}"
                missing.append(f"{route} ({name}): {where}")
    return missing


@checks.register(checks.Tags.urls)
def check_access_declarations(app_configs=None, **kwargs):
    return [
        checks.Error(
            f"The view of {entry} declares nothing for the access log.",
            hint="Decorate it with core.access.logs_access(...) or access_exempt('why').",
            id="audit.E001",
        )
        for entry in undeclared_views()
    ]
