"""Create forms that can't be sent twice (country schema).

Every form that creates something (an item, a transfer, a stock-take) carries
a one-time token in a hidden field. ``create_once`` runs the create service
and records the token in the same transaction; a second post with the same
token finds the first one's result and creates nothing. Two posts at the same
moment are ordered by the token's primary key: the second waits for the first
to commit, then finds it. A post that fails (a ValidationError) rolls the
token back with everything else, so the corrected form can be sent again.

A post without a token is served as before: the token protects people from
accidental resubmission (their browser always sends it), and someone who
wants two items can always open the form twice — requiring it would add no
protection. static/js/sms.js also disables the button after the first click.
"""

import uuid
from collections.abc import Callable

from django import forms
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from .models import FormSubmission

TOKEN_FIELD = "submission_token"


def token_field() -> forms.UUIDField:
    # autocomplete=off: a browser restoring a page must not restore a spent token.
    return forms.UUIDField(
        required=False,
        initial=uuid.uuid4,
        widget=forms.HiddenInput(attrs={"autocomplete": "off"}),
    )


class SubmitOnceMixin:
    """Adds the hidden one-time token field to a form (render it with the form's
    hidden fields, or ``{{ form.submission_token }}``)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields[TOKEN_FIELD] = token_field()

    def once_token(self):
        return self.cleaned_data.get(TOKEN_FIELD)


def spent(data, *, user, purpose: str) -> str | None:
    """The primary key of what an earlier post of this form (``data``: the
    POST) created, if its token is spent; checked before the form itself, whose
    choices may already exclude what the first post used (items now in a
    transfer)."""
    try:
        token = uuid.UUID(str(data.get(TOKEN_FIELD) or ""))
    except ValueError:
        return None
    earlier = FormSubmission.objects.filter(token=token, user=user, purpose=purpose).first()
    return earlier.result if earlier is not None else None


def _claim(*, token, user, purpose: str) -> FormSubmission | None:
    """Record ``token``; the earlier submission if it was already spent."""
    try:
        with transaction.atomic():
            FormSubmission.objects.create(token=token, purpose=purpose, user=user)
    except IntegrityError:
        earlier = FormSubmission.objects.filter(token=token).first()
        if earlier is None or earlier.user_id != user.pk or earlier.purpose != purpose:
            raise ValidationError(
                _("This form was already used. Reload the page and fill it in again.")
            ) from None
        return earlier
    return None


def create_once(*, token, user, purpose: str, create: Callable):
    """(result, created): ``create()``'s object, or the primary key (as text) of
    what the first post with this token created."""
    if token is None:
        return create(), True
    with transaction.atomic():
        earlier = _claim(token=token, user=user, purpose=purpose)
        if earlier is not None:
            return earlier.result, False
        created = create()
        FormSubmission.objects.filter(pk=token).update(result=str(created.pk))
        return created, True
