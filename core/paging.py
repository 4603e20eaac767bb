"""Keyset paging: the one paginator of every long list.

Each page starts right after the last row of the page before it (or ends
right before the first row of the page after it), found by comparing the sort
keys, so there is no COUNT and no OFFSET: page 1,000 costs what page 1 costs,
and a row added meanwhile never shifts a row onto two pages or off both.

The ordering must end with a unique field (an id, an SMS number), so that no
two rows share every key; fields must be columns of the model that are never
NULL. A cursor is the sort keys of one row, each as text, joined by ``~``
(e.g. ``2025-01-10~XA-2025-000042``); a cursor that can't be read (a link
typed by hand, an old bookmark) is ignored and the first page is shown, as a
bad filter value never makes an error page.
"""

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db.models import Q, QuerySet

PAGE_SIZE = 50
SEPARATOR = "~"


def _encode(value) -> str:
    if isinstance(value, datetime.datetime):
        # UTC with a "Z": no "+" that a hand-made link would turn into a space.
        value = value.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")
    elif isinstance(value, datetime.date):
        value = value.isoformat()
    # "%" first, so that decoding undoes exactly what encoding did.
    return str(value).replace("%", "%25").replace(SEPARATOR, "%7E")


def _decode(text: str) -> str:
    return text.replace("%7E", SEPARATOR).replace("%25", "%")


@dataclass
class Page:
    """One page of rows, and the query parameters of the pages around it."""

    rows: list
    next_cursor: str | None = None
    previous_cursor: str | None = None
    # No cursor was given (or it could not be read): this is the first page.
    is_first: bool = True
    next_param: str = "after"
    previous_param: str = "before"
    # The cursor parameter this page was asked with ({} on the first page),
    # as the access log records it.
    asked: dict = field(default_factory=dict)

    def __iter__(self):
        return iter(self.rows)

    def __len__(self):
        return len(self.rows)

    def __bool__(self):
        return bool(self.rows)

    # Mappings for {% querystring request.GET page.next_query %}: the filters
    # stay, the other cursor goes.
    @property
    def next_query(self) -> dict:
        return {self.next_param: self.next_cursor, self.previous_param: None}

    @property
    def previous_query(self) -> dict:
        return {self.previous_param: self.previous_cursor, self.next_param: None}

    @property
    def first_query(self) -> dict:
        return {self.next_param: None, self.previous_param: None}


class Keyset:
    """A list's paging: its order (model field names, ``-`` for descending,
    the last one unique) and page size, and the names of its two cursor
    parameters in the query string."""

    def __init__(
        self,
        *ordering: str,
        size: int = PAGE_SIZE,
        next_param: str = "after",
        previous_param: str = "before",
    ):
        if not ordering:
            raise ValueError("Keyset paging needs an ordering.")
        self.ordering = tuple(ordering)
        self.names = tuple(name.lstrip("-") for name in ordering)
        self.descending = tuple(name.startswith("-") for name in ordering)
        self.size = size
        self.next_param = next_param
        self.previous_param = previous_param

    # --- Cursors -----------------------------------------------------------------

    def cursor(self, row) -> str:
        return SEPARATOR.join(_encode(getattr(row, name)) for name in self.names)

    def parse(self, queryset: QuerySet, text) -> tuple | None:
        """The sort keys of a cursor, typed as the model's fields; None when
        it is missing or can't be read."""
        if not text or not isinstance(text, str):
            return None
        parts = text.split(SEPARATOR)
        if len(parts) != len(self.names):
            return None
        values = []
        for name, part in zip(self.names, parts, strict=True):
            try:
                model_field = queryset.model._meta.get_field(name)
                value = model_field.to_python(_decode(part))
            except (FieldDoesNotExist, ValidationError, ValueError, TypeError, OverflowError):
                return None
            if value is None or value == "":
                return None
            values.append(value)
        return tuple(values)

    # --- Filtering -----------------------------------------------------------------

    def _beyond(self, values: tuple, *, forward: bool) -> Q:
        """Rows strictly after ``values`` in the list's order (before them
        when not ``forward``): (a, b, c) > (x, y, z) spelled out field by field."""
        condition = Q()
        for i, (name, desc) in enumerate(zip(self.names, self.descending, strict=True)):
            lookup = "lt" if desc == forward else "gt"
            term = Q(**{f"{name}__{lookup}": values[i]})
            for before_name, before_value in zip(self.names[:i], values[:i], strict=True):
                term &= Q(**{before_name: before_value})
            condition |= term
        if len(self.names) == 1:
            return condition
        # The same bound on the first key alone, implied by the terms above:
        # it gives the planner an index range to start from.
        first = "lte" if self.descending[0] == forward else "gte"
        return Q(**{f"{self.names[0]}__{first}": values[0]}) & condition

    def _order(self, *, forward: bool) -> list[str]:
        if forward:
            return list(self.ordering)
        return [
            name if desc else f"-{name}"
            for name, desc in zip(self.names, self.descending, strict=True)
        ]

    # --- One page --------------------------------------------------------------------

    def page(self, queryset: QuerySet, params: Mapping | None = None) -> Page:
        """The page ``params`` (a request's GET) asks for: after its next
        cursor, or before its previous cursor, or the first page."""
        params = params or {}
        after = self.parse(queryset, params.get(self.next_param))
        before = None if after else self.parse(queryset, params.get(self.previous_param))
        size = self.size
        if before is not None:
            rows = list(
                queryset.filter(self._beyond(before, forward=False)).order_by(
                    *self._order(forward=False)
                )[: size + 1]
            )
            has_previous = len(rows) > size
            rows = rows[:size][::-1]
            has_next = True  # the row the cursor names comes after this page
        else:
            queryset = queryset.order_by(*self._order(forward=True))
            if after is not None:
                queryset = queryset.filter(self._beyond(after, forward=True))
            rows = list(queryset[: size + 1])
            has_next = len(rows) > size
            rows = rows[:size]
            has_previous = after is not None
        asked = {}
        if after is not None:
            asked[self.next_param] = params.get(self.next_param)
        elif before is not None:
            asked[self.previous_param] = params.get(self.previous_param)
        return Page(
            rows=rows,
            next_cursor=self.cursor(rows[-1]) if rows and has_next else None,
            previous_cursor=self.cursor(rows[0]) if rows and has_previous else None,
            is_first=after is None and before is None,
            next_param=self.next_param,
            previous_param=self.previous_param,
            asked=asked,
        )
