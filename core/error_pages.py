"""SMS's own error pages: 404, 403, 500 and a refused form (CSRF).

In the user's language (LocaleMiddleware has already chosen it), styled like
the app, and never showing internals: no exception text, no path of the code,
no CSRF reason. The 500 page renders with no request context and no database
(the template reads nothing but static files and translations), so it still
answers when the database is what failed.
"""

from django.http import (
    HttpResponseForbidden,
    HttpResponseNotFound,
    HttpResponseServerError,
)
from django.template import loader
from django.views.decorators.csrf import requires_csrf_token

from .access import access_exempt


def _render(template: str, request=None) -> str:
    # No request: no context processors, so no session, user or database read.
    return loader.get_template(template).render({}, None)


@access_exempt("the 'page not found' page: shows nothing stored")
@requires_csrf_token
def page_not_found(request, exception=None):
    return HttpResponseNotFound(_render("errors/404.html"))


@access_exempt("the 'not allowed' page: shows nothing stored")
@requires_csrf_token
def permission_denied(request, exception=None):
    return HttpResponseForbidden(_render("errors/403.html"))


@access_exempt("the 'something went wrong' page: shows nothing stored")
def server_error(request=None):
    return HttpResponseServerError(_render("errors/500.html"))


@access_exempt("the 'form expired' page (CSRF refusal): shows nothing stored")
def csrf_failure(request, reason=""):
    # ``reason`` is Django's technical explanation: logged by Django, not shown.
    return HttpResponseForbidden(_render("errors/403_csrf.html"))
