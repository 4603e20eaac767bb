"""The access log of every view that shows stock, people or documents.

Views declare what they show (``core.access.logs_access``) or why they show
nothing (``access_exempt``); this middleware reads the declaration of the
view Django is about to call and, once the view has answered, writes one row
when the answer is a success (2xx) to a signed-in user — never for a 404 of
an object out of scope, a 403, a redirect or an error. The row has the
client address of ``core.origin`` (the one rule), the object and details the
view gave through ``core.access.access_shows``, or else the query string.

A row that cannot be written fails the request: nothing is shown unlogged.
"""

from core.access import declaration_of_callback, query_details, shown_by

from . import services

DECLARATION_ON_REQUEST = "sms_access_declaration"


class AccessLogMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        declaration = getattr(request, DECLARATION_ON_REQUEST, None)
        if declaration is not None and declaration.action is not None:
            self._record(request, response, declaration)
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        setattr(request, DECLARATION_ON_REQUEST, declaration_of_callback(view_func))
        return None

    @staticmethod
    def _record(request, response, declaration) -> None:
        if not 200 <= response.status_code < 300:
            return
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return
        if declaration.when_perm and not user.has_perm(declaration.when_perm):
            return
        shown = shown_by(request)
        details = shown.details if shown.details is not None else query_details(request)
        services.access_record(
            request=request,
            action=declaration.action,
            obj=shown.obj,
            site=shown.site,
            details={**declaration.details, **details},
        )
