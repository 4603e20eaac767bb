"""Marks in one canonical form, with their parts (issue 12, item 2).

Every stored mark is rewritten in its canonical form ("XC 24/01/12" ->
"XC 24/1/12") and its (series, year, serial) stored. Two marks with the same
serial in the same year and series (whatever their weight parts) cannot both
keep it: the mark kept is the one already canonical, then the one registered
first; the other keeps its text, gets no parts and is flagged "collision"
for the "Marks to do" page. Nothing is refused; every decision is logged
(``stock.migrations`` logger). A mark that does not fit its category's
pattern is left as it is and logged.
"""

import logging

from django.conf import settings
from django.db import connection, migrations, models

from stock.marks import DEFAULT_PATTERN, parse_mark

logger = logging.getLogger("stock.migrations")
BATCH = 2000


def canonicalise(apps, schema_editor):
    StockItem = apps.get_model("stock", "StockItem")
    schema = getattr(connection, "schema_name", "")
    country = schema.upper()
    rows = []
    for item in (
        StockItem.objects.exclude(cites_mark=None)
        .select_related("item_type__category")
        .only("pk", "sms_number", "cites_mark", "created_at", "item_type__category__mark_pattern")
        .iterator(chunk_size=BATCH)
    ):
        pattern = (item.item_type.category.mark_pattern or "").strip() or DEFAULT_PATTERN
        parsed = parse_mark(item.cites_mark, pattern=pattern, country=country)
        if parsed is None:
            logger.warning(
                "Mark %s of item %s (schema %s) does not fit the pattern %s: left as it is",
                item.cites_mark,
                item.sms_number,
                schema,
                pattern,
            )
            continue
        rows.append(
            (parsed.text != item.cites_mark, item.created_at, item.sms_number, item, parsed)
        )
    rows.sort(key=lambda row: row[:3])
    holders: dict = {}
    changed = []
    collisions = 0
    for _not_canonical, _at, _number, item, parsed in rows:
        key = (parsed.series, parsed.year, parsed.serial)
        holder = holders.get(key)
        if holder is not None:
            collisions += 1
            item.mark_flag = "collision"
            logger.warning(
                "Mark %s of item %s (schema %s) has the serial of %s on item %s: kept as "
                "typed and flagged for Marks to do",
                item.cites_mark,
                item.sms_number,
                schema,
                holder[0],
                holder[1],
            )
        else:
            holders[key] = (parsed.text, item.sms_number)
            if parsed.text != item.cites_mark:
                logger.info(
                    "Mark %s of item %s (schema %s) stored as %s",
                    item.cites_mark,
                    item.sms_number,
                    schema,
                    parsed.text,
                )
            item.cites_mark = parsed.text
            item.mark_series, item.mark_year, item.mark_serial = key
        changed.append(item)
    StockItem.objects.bulk_update(
        changed,
        ["cites_mark", "mark_series", "mark_year", "mark_serial", "mark_flag"],
        batch_size=BATCH,
    )
    if rows:
        logger.info(
            "Marks in schema %s: %d stored with their parts, %d collisions flagged",
            schema,
            len(rows) - collisions,
            collisions,
        )


class Migration(migrations.Migration):
    dependencies = [
        ("stock", "0008_itemtype_cites_class"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="stockitem",
            name="mark_flag",
            field=models.CharField(
                blank=True,
                choices=[
                    ("legacy_weight", "Older mark: its weight differs from the item's"),
                    ("remark", "Weight corrected beyond the mark's rounding: re-mark"),
                    ("collision", "Mark collides with another item's serial"),
                ],
                max_length=16,
                verbose_name="mark to check",
            ),
        ),
        migrations.AddField(
            model_name="stockitem",
            name="mark_serial",
            field=models.PositiveIntegerField(blank=True, null=True, verbose_name="mark serial"),
        ),
        migrations.AddField(
            model_name="stockitem",
            name="mark_series",
            field=models.CharField(blank=True, max_length=100, verbose_name="mark series"),
        ),
        migrations.AddField(
            model_name="stockitem",
            name="mark_year",
            field=models.PositiveSmallIntegerField(blank=True, null=True, verbose_name="mark year"),
        ),
        migrations.AddIndex(
            model_name="stockitem",
            index=models.Index(
                condition=models.Q(("mark_flag", ""), _negated=True),
                fields=["mark_flag"],
                name="stock_item_mark_flag",
            ),
        ),
        migrations.RunPython(canonicalise, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="stockitem",
            constraint=models.UniqueConstraint(
                condition=models.Q(("mark_serial__isnull", False)),
                fields=("mark_series", "mark_year", "mark_serial"),
                name="stock_item_mark_serial_unique",
            ),
        ),
    ]
