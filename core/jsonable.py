"""Values as a JSON column gives them back (no database, no other app).

``jsonable`` turns Decimals, dates, times and UUIDs into the strings
DjangoJSONEncoder writes, so what is compared or hashed now is what is read
back from the stored row later (the custody ledger's hashes, the old and new
values of an item's history, a correction waiting for approval).
"""

import json

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Model


def jsonable(value, *, model=None):
    """``value`` (a dict, list or single value) with every part JSON-safe.

    ``model`` says how a model instance is written (e.g. ``lambda t: t.code``);
    without it an instance is written as its primary key.
    """
    as_model = model or (lambda instance: instance.pk)

    class Encoder(DjangoJSONEncoder):
        def default(self, o):
            if isinstance(o, Model):
                return as_model(o)
            return super().default(o)

    return json.loads(json.dumps(value, cls=Encoder))
