"""Every item's recorded fields against what the custody ledger says they
should be (country schema), in SQL over the ledger's payloads.

An item's weight, pieces, type, mark, site and status are columns anyone with
the database password can UPDATE without writing a ledger entry. The ledger
(signed, ledger.signing; checked by ledger.chain.verify_chain) records every
legitimate change of them: the registration, each correction, each move. This
check replays those entries per item, the latest value of each field winning,
and names every item whose row disagrees, field by field. It is what turns a
quiet ``UPDATE stock_stockitem SET weight_kg = ...`` into a named mismatch in
``verify_evidence`` and the nightly check.

Which entry sets which field (the one place that says so; the services that
write these entries are in stock.services and custody.services):

- ``registered``: SMS number, type (code), mark, weight, pieces (payload),
  site (the entry's site), status in stock;
- ``correction``: each ``changes[]`` element's field and new value (type by
  code, the generated mark included);
- ``archived``: status archived; ``dispatched``: in transit;
  ``received``: in stock, at the entry's site (the destination);
- ``stocktake_missing``: missing; ``stocktake_found``: in stock;
- ``discrepancy_resolved``: its ``status`` if any (found: in stock at the
  entry's site), its ``new_weight`` (weight accepted) or ``weight_kg`` (found).

Other columns (description, case reference, custom values...) are not in
the registration's payload, so the ledger cannot vouch for them.

Set-based: one statement reads the ledger once (an aggregate per item, the
entries' field values merged oldest first) and joins the items once; nothing
is looped over in Python but the mismatches. Times at 1,000,000 items:
README, "Evidence files and the nightly check" (bench/item_ledger_check.py).
"""

from dataclasses import dataclass

from django.db import connection

# The fields checked, in the order a mismatch names them.
FIELDS = ("sms_number", "item_type", "cites_mark", "weight_kg", "pieces", "site", "status")

# One jsonb per entry: the item fields that entry sets (see the docstring).
_ENTRY_SETS = """
CASE e.event
  WHEN 'registered' THEN jsonb_build_object(
    'sms_number', e.payload->'sms_number', 'item_type', e.payload->'item_type',
    'cites_mark', e.payload->'cites_mark', 'weight_kg', e.payload->'weight_kg',
    'pieces', e.payload->'pieces', 'site', e.site_id, 'status', 'in_stock')
  WHEN 'correction' THEN (
    SELECT jsonb_object_agg(c->>'field', c->'new')
    FROM jsonb_array_elements(
      CASE WHEN jsonb_typeof(e.payload->'changes') = 'array'
           THEN e.payload->'changes' ELSE '[]'::jsonb END) AS c
    WHERE c->>'field' IN ('item_type', 'cites_mark', 'weight_kg', 'pieces'))
  WHEN 'archived' THEN '{"status": "archived"}'::jsonb
  WHEN 'dispatched' THEN '{"status": "in_transit"}'::jsonb
  WHEN 'received' THEN jsonb_build_object('status', 'in_stock', 'site', e.site_id)
  WHEN 'stocktake_missing' THEN '{"status": "missing"}'::jsonb
  WHEN 'stocktake_found' THEN '{"status": "in_stock"}'::jsonb
  WHEN 'discrepancy_resolved' THEN jsonb_strip_nulls(jsonb_build_object(
    'status', e.payload->'status',
    'weight_kg', COALESCE(e.payload->'new_weight', e.payload->'weight_kg'),
    'site', CASE WHEN e.payload->>'status' = 'in_stock' THEN e.site_id END))
END
"""

# A number recorded in the ledger against a numeric column: compared as
# numbers when it is one (12.5 = 12.500), as text otherwise (never a cast error).
_NUMBER = r"'^-?[0-9]+(\.[0-9]+)?$'"


def _number_differs(key: str, column: str) -> str:
    value = f"(x.v->>'{key}')"
    return (
        f"(CASE WHEN {value} ~ {_NUMBER} THEN {value}::numeric IS DISTINCT FROM {column}"
        f" ELSE {value} IS DISTINCT FROM {column}::text END)"
    )


_DIFFERS = {
    "sms_number": "(x.v->>'sms_number') IS DISTINCT FROM i.sms_number",
    "item_type": "(x.v->>'item_type') IS DISTINCT FROM t.code",
    "cites_mark": "NULLIF(x.v->>'cites_mark', '') IS DISTINCT FROM NULLIF(i.cites_mark, '')",
    "weight_kg": _number_differs("weight_kg", "i.weight_kg"),
    "pieces": _number_differs("pieces", "i.pieces"),
    "site": "(x.v->>'site') IS DISTINCT FROM i.site_id::text",
    "status": "(x.v->>'status') IS DISTINCT FROM i.status",
}
_RECORDED = {
    "sms_number": "i.sms_number",
    "item_type": "t.code",
    "cites_mark": "i.cites_mark",
    "weight_kg": "i.weight_kg::text",
    "pieces": "i.pieces::text",
    "site": "s.code",
    "status": "i.status",
}
# The ledger names sites by id: the mismatches name them by code, as people
# know them, looked up afterwards (a join here would sort every item by it).
_EXPECTED = {name: f"(x.v->>'{name}')" for name in FIELDS}


def _statement() -> str:
    checks = ",\n    ".join(
        f"('{name}', {_DIFFERS[name]}, {_RECORDED[name]}, {_EXPECTED[name]})" for name in FIELDS
    )
    return f"""
WITH expected AS (
  SELECT e.item_id, jsonb_object_agg(f.key, f.value ORDER BY e.sequence) AS v
  FROM custody_ledgerentry e
  CROSS JOIN LATERAL jsonb_each(COALESCE({_ENTRY_SETS}, '{{}}'::jsonb)) AS f
  WHERE e.item_id IS NOT NULL
  GROUP BY e.item_id
)
SELECT COALESCE(i.id, x.item_id), i.sms_number, x.item_id IS NULL, i.id IS NULL,
       m.field, m.recorded, m.expected
FROM stock_stockitem i
FULL JOIN expected x ON x.item_id = i.id
LEFT JOIN stock_itemtype t ON t.id = i.item_type_id
LEFT JOIN stock_site s ON s.id = i.site_id
LEFT JOIN LATERAL (VALUES
    {checks}
  ) AS m(field, differs, recorded, expected)
  ON m.differs AND i.id IS NOT NULL AND x.item_id IS NOT NULL
WHERE i.id IS NULL OR x.item_id IS NULL OR m.field IS NOT NULL
ORDER BY i.sms_number NULLS LAST, 1, m.field
"""  # noqa: S608 - our own fixed SQL, no user input


@dataclass(frozen=True)
class ItemMismatch:
    item_id: str
    sms_number: str | None
    # "" for the two whole-item problems below.
    field: str
    recorded: str | None = None
    expected: str | None = None
    # An item with no registration in the ledger (inserted around the services).
    unregistered: bool = False
    # An item the ledger registered that no longer exists.
    gone: bool = False


def items_verify() -> tuple[int, list[ItemMismatch]]:
    """(number of items checked, one ItemMismatch per mismatching field of
    each item of the current country): each item's row against the latest
    value the ledger's entries give each field."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM stock_stockitem")
        checked = cursor.fetchone()[0]
        cursor.execute(_statement())
        rows = cursor.fetchall()
        cursor.execute("SELECT id::text, code FROM stock_site")
        sites = dict(cursor.fetchall())
    mismatches = []
    for item_id, sms_number, unregistered, gone, name, recorded, expected in rows:
        if name == "site":
            expected = sites.get(expected, expected)
        mismatches.append(
            ItemMismatch(
                item_id=str(item_id),
                sms_number=sms_number,
                field="" if unregistered or gone else name,
                recorded=recorded,
                expected=expected,
                unregistered=unregistered,
                gone=gone,
            )
        )
    return checked, mismatches
