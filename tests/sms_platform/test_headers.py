"""Headers every page keeps: a Content-Security-Policy the pages can live with
(no inline script or style anywhere: the pages are read, not trusted), and
``Cache-Control: no-store`` on every response to a signed-in user and on every
download.

The main pages are found by following the links of each role's pages from the
home page, plus the pages only a form leads to (register step 2, a report, a
photo whose file no longer matches).
"""

import os
import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import schema_context

from accounts.roles import AUDITOR
from custody import services as custody_services
from reporting import services as reporting_services
from tests.factories import make_user
from tests.stock.conftest import image_bytes, make_register, register

pytestmark = pytest.mark.django_db

ID = re.compile(r"/(\d+|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})(?=/|$)")
# Never followed: they end the session or are not pages.
SKIP = ("/accounts/logout/", "/i18n/", "/static/")


class InlineFinder(HTMLParser):
    """Collects what a strict CSP would block, and the page's links."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "script" and not attributes.get("src"):
            self.problems.append("inline <script>")
        if tag == "style":
            self.problems.append("<style> element")
        for name, value in attrs:
            if name == "style":
                self.problems.append(f'style="" on <{tag}>')
            if name.startswith("on"):
                self.problems.append(f'{name}="" on <{tag}>')
            if name in ("href", "src", "action", "formaction") and (
                value or ""
            ).strip().lower().startswith("javascript:"):
                self.problems.append(f"javascript: URL on <{tag}>")
        if tag == "a" and attributes.get("href"):
            self.links.append(attributes["href"])


def shape(path: str) -> str:
    return ID.sub("/<id>", path)


def crawl(client, host, start: list[str], *, limit=120):
    """GET ``start`` and every same-host link found, at most two URLs per
    shape of path; returns {url: response}."""
    seen_shapes: dict[str, int] = {}
    queue, visited = list(start), {}
    while queue and len(visited) < limit:
        url = queue.pop(0)
        parts = urlsplit(url)
        if parts.netloc and parts.netloc != host:
            continue
        path = parts.path
        if url in visited or any(path.startswith(s) for s in SKIP):
            continue
        key = shape(path) + ("?" if parts.query else "")
        if seen_shapes.get(key, 0) >= 2 and url not in start:
            continue
        seen_shapes[key] = seen_shapes.get(key, 0) + 1
        response = client.get(url, HTTP_HOST=host)
        visited[url] = response
        if response.get("Content-Type", "").startswith("text/html") and not response.streaming:
            finder = InlineFinder()
            finder.feed(response.content.decode())
            for link in finder.links:
                target = urljoin(url, link.split("#", 1)[0])
                if target and target not in visited:
                    queue.append(target)
    return visited


def assert_page_kept_clean(url, response, *, signed_in: bool):
    policy = response.get("Content-Security-Policy", "")
    for directive in ("default-src 'self'", "script-src 'self'", "style-src 'self'"):
        assert directive in policy, (url, policy)
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
    if signed_in:
        assert "no-store" in response.get("Cache-Control", ""), url
    if response.get("Content-Type", "").startswith("text/html") and not response.streaming:
        finder = InlineFinder()
        finder.feed(response.content.decode())
        assert finder.problems == [], (url, finder.problems)


@pytest.fixture
def country(in_country_a, settings, tmp_path):
    """Something on every kind of page: items with photos, a transfer, a
    stock-take, a generated report, a photo whose file no longer matches."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    reg = make_register()
    reg.auditor = make_user(role=AUDITOR, all_sites=True)
    photo = SimpleUploadedFile("a.jpg", image_bytes(), content_type="image/jpeg")
    items = [
        register(reg, photos=[photo]),
        register(reg),
        register(reg, site=reg.site_y, actor=reg.manager_y),
    ]
    transfer = custody_services.transfer_create(
        actor=reg.manager_x,
        origin=reg.site_x,
        destination=reg.site_y,
        items=[items[1]],
        reason="Consolidation",
        authority_reference="MIN/1",
    )
    custody_services.stocktake_open(actor=reg.manager_x, site=reg.site_x)
    run = reporting_services.report_request(
        actor=reg.hq,
        kind="summary",
        fmt="csv",
        title="Summary",
        params={"start": "2026-01-01", "end": "2026-12-31", "group_by": ["site"]},
    )
    reporting_services.report_generate(run_id=run.pk)
    swapped = register(reg, photos=[SimpleUploadedFile("b.jpg", image_bytes(color=(1, 2, 3)))])
    swapped_photo = swapped.photos.get()
    with open(swapped_photo.file.path, "r+b") as handle:
        handle.seek(-4, os.SEEK_END)
        handle.write(b"\0\0\0\0")
    reg.items, reg.transfer, reg.run, reg.swapped = items, transfer, run, swapped_photo
    return reg


def forms_only(reg) -> list[str]:
    """Pages reached through a form rather than a link."""
    return [
        f"/items/new/?site={reg.site_x.pk}&item_type={reg.tusk.pk}",
        f"/transfers/new/?origin={reg.site_x.pk}",
        "/reports/summary/?start=2026-01-01&end=2026-12-31&group_by=site",
        "/reports/cites/?cites_kind=ivory&year=2026",
        "/items/?q=XA",
        f"/photos/{reg.swapped.pk}/",
        f"/photos/{reg.swapped.pk}/thumbnail/",
        f"/items/{reg.swapped.item_id}/",
        f"/reports/generated/{reg.run.pk}/download/",
        f"/photos/{reg.items[0].photos.get().pk}/",
    ]


@pytest.mark.parametrize("role", ["manager_x", "auditor", "hq", "admin"])
def test_signed_in_pages_keep_the_policy_and_are_never_stored(client, host_a, country, role):
    user = getattr(country, role)
    client.force_login(user)
    visited = crawl(client, host_a, ["/", *forms_only(country)])
    shapes = {shape(urlsplit(url).path) for url, r in visited.items() if r.status_code == 200}
    # The pages each role lives on were reached (the crawl is not vacuous).
    expected = {"/", "/items/", "/items/<id>/", "/accounts/me/", "/reports/"}
    expected |= {
        "manager_x": {"/items/new/", "/transfers/", "/transfers/<id>/", "/stock-takes/<id>/"},
        "auditor": {"/stock-takes/", "/ledger/", "/photos/<id>/"},
        "hq": {"/reports/generated/<id>/", "/reports/generated/<id>/download/"},
        "admin": {"/administration/", "/administration/users/", "/administration/activity/"},
    }[role]
    assert expected <= shapes, expected - shapes
    assert len(visited) >= 15
    for url, response in visited.items():
        assert response.status_code in (200, 302, 403, 404, 409), (url, response.status_code)
        assert_page_kept_clean(url, response, signed_in=True)
    # Downloads and photos are files: never stored either.
    files = [r for r in visited.values() if r.streaming]
    assert files and all("no-store" in r["Cache-Control"] for r in files)


def test_anonymous_pages_keep_the_policy(client, host_a, public_host, country):
    visited = crawl(client, host_a, ["/accounts/login/", "/accounts/password/reset/"])
    visited.update(crawl(client, public_host, ["/accounts/login/"]))
    assert len(visited) >= 3
    for url, response in visited.items():
        assert_page_kept_clean(url, response, signed_in=False)


def test_staff_console_keeps_the_policy_and_is_never_stored(client, public_host):
    staff = make_user(username="platform", is_staff=True)
    client.force_login(staff)
    visited = crawl(client, public_host, ["/"])
    assert "/" in visited and visited["/"].status_code == 200
    for url, response in visited.items():
        assert_page_kept_clean(url, response, signed_in=True)


def test_a_download_is_never_stored_even_without_a_session(rf):
    from django.http import FileResponse, HttpResponse

    from sms_platform.middleware import NoStoreMiddleware

    request = rf.get("/")
    download = NoStoreMiddleware(
        lambda r: FileResponse(iter([b"x"]), as_attachment=True, filename="a.csv")
    )(request)
    assert "no-store" in download["Cache-Control"]
    page = NoStoreMiddleware(lambda r: HttpResponse("public"))(request)
    assert not page.has_header("Cache-Control")


def test_a_country_b_user_crawling_finds_nothing_of_country_a(client, host_b, country, country_b):
    with schema_context(country_b.schema_name):
        other = make_user(role=AUDITOR, all_sites=True)
        client.force_login(other)
    visited = crawl(client, host_b, ["/", f"/items/{country.items[0].pk}/"])
    assert visited[f"/items/{country.items[0].pk}/"].status_code == 404
    for url, response in visited.items():
        assert_page_kept_clean(url, response, signed_in=True)
