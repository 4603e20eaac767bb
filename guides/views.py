"""The Help menu: the training guides, the reader's own first, in the
reader's language (the request's), on screen and as a PDF."""

from django.contrib.auth.decorators import login_required
from django.contrib.staticfiles import finders
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from accounts.roles import role_of
from core.access import access_exempt

from . import documents
from .content import GUIDES, guides_for, shot_path

EXEMPT = _("The training guides show fixed text and screenshots of the demo country.")


def _role_key(user):
    role = role_of(user)
    return role.key if role else None


def _guide_or_404(key):
    try:
        return GUIDES[key]
    except KeyError:
        raise Http404 from None


@login_required
@access_exempt(EXEMPT)
def index(request):
    role_key = _role_key(request.user)
    return render(
        request,
        "guides/index.html",
        {"guides": guides_for(role_key), "role_key": role_key},
    )


@login_required
@access_exempt(EXEMPT)
def guide(request, key):
    chosen = _guide_or_404(key)
    language = get_language()
    tasks = [
        {
            "task": task,
            "steps": [
                {
                    "text": step.text,
                    "image": static(shot_path(language, step.shot))
                    if finders.find(shot_path(language, step.shot))
                    else None,
                }
                for step in task.steps
            ],
        }
        for task in chosen.tasks
    ]
    return render(
        request,
        "guides/guide.html",
        {"guide": chosen, "tasks": tasks},
    )


@login_required
@access_exempt(EXEMPT)
def guide_pdf(request, key):
    chosen = _guide_or_404(key)
    language = get_language()
    response = HttpResponse(
        documents.guide_pdf(chosen, language=language), content_type="application/pdf"
    )
    response["Content-Disposition"] = f'attachment; filename="sms-{chosen.key}-{language}.pdf"'
    return response
