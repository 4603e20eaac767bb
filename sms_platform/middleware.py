"""Response headers every page keeps (public and country hosts)."""

from django.utils.cache import add_never_cache_headers


class NoStoreMiddleware:
    """``Cache-Control: no-store`` on every response to a signed-in user and on
    every download (a file response or an attachment), whoever asked.

    What a signed-in person sees is stock data, people or evidence: no browser
    cache, shared computer or proxy along the way keeps a copy of it. Placed
    after the authentication middleware; static files (WhiteNoise) never reach
    it and keep their long cache lifetimes.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        signed_in = bool(user is not None and user.is_authenticated)
        download = response.streaming or response.has_header("Content-Disposition")
        cache_control = response.get("Cache-Control", "")
        if (signed_in or download) and "no-store" not in cache_control:
            # Replaces whatever the view said (e.g. max-age on a photo); a view
            # that already said no-store keeps its own header.
            if cache_control:
                del response["Cache-Control"]
            # max-age=0, no-cache, no-store, must-revalidate, private (and Expires).
            add_never_cache_headers(response)
        return response
