"""Item types declare their CITES class (issue 12).

Until now the declarations guessed it: an ivory type was "worked" only when its
code contained "worked" (so ``ivory-carving``, "Carvings (worked ivory)", went
under raw cut pieces). Existing countries get their classes once, from that
rule (and the SMS_CITES_TYPE_CLASSES setting that overrode it), and the
migration logs what it decided for every type so an administrator can check
it and correct the protocol where the old rule was wrong.
"""

import logging

from django.conf import settings
from django.db import connection, migrations, models

logger = logging.getLogger("stock.migrations")

# The old per-declaration keys (reporting.cites, setting overrides) -> class.
OLD_KEYS = {
    "ivory": {"raw_whole": "ivory_raw_whole", "raw_cut": "ivory_raw_cut", "worked": "ivory_worked"},
    "rhino_horn": {"whole": "rhino_whole", "pieces": "rhino_piece"},
    "pangolin": {"scales": "pangolin_scales", "other": "pangolin_other"},
}


def rule_of_the_day(item_type, kind: str) -> tuple[str, str]:
    """(class, why) by the rule reporting.cites.class_of applied until now."""
    override = getattr(settings, "SMS_CITES_TYPE_CLASSES", {}).get(item_type.code)
    if override and override in OLD_KEYS[kind]:
        return OLD_KEYS[kind][override], "SMS_CITES_TYPE_CLASSES setting"
    code = item_type.code.lower()
    whole = item_type.whole or "whole" in item_type.code
    if kind == "ivory":
        if whole:
            return "ivory_raw_whole", "whole flag or 'whole' in the code"
        if "worked" in code:
            return "ivory_worked", "'worked' in the code"
        return "ivory_raw_cut", "neither whole nor 'worked' in the code"
    if kind == "rhino_horn":
        if whole:
            return "rhino_whole", "whole flag or 'whole' in the code"
        return "rhino_piece", "not whole (pieces and derivatives were one class)"
    if "scale" in code:
        return "pangolin_scales", "'scale' in the code"
    return "pangolin_other", "no 'scale' in the code"


def declare_classes(apps, schema_editor):
    ItemType = apps.get_model("stock", "ItemType")
    schema = getattr(connection, "schema_name", "")
    for item_type in ItemType.objects.select_related("category").order_by("code"):
        kind = item_type.category.kind
        if kind not in OLD_KEYS or item_type.cites_class:
            continue
        cites_class, why = rule_of_the_day(item_type, kind)
        item_type.cites_class = cites_class
        item_type.save(update_fields=["cites_class"])
        logger.info(
            "CITES class of item type %s (%s) in schema %s: %s (%s); check it and "
            "declare it in the inventory protocol",
            item_type.code,
            (item_type.labels or {}).get("en") or next(iter((item_type.labels or {}).values()), ""),
            schema,
            cites_class,
            why,
        )


class Migration(migrations.Migration):
    dependencies = [("stock", "0007_pendingcorrection")]

    operations = [
        migrations.AddField(
            model_name="itemtype",
            name="cites_class",
            field=models.CharField(
                blank=True,
                choices=[
                    ("ivory_raw_whole", "Raw ivory: whole tusk"),
                    ("ivory_raw_cut", "Raw ivory: cut piece"),
                    ("ivory_worked", "Worked ivory"),
                    ("rhino_whole", "Rhino horn: whole horn"),
                    ("rhino_piece", "Rhino horn: piece"),
                    ("rhino_derivative", "Rhino horn: derivative"),
                    ("pangolin_scales", "Pangolin: scales"),
                    ("pangolin_other", "Pangolin: other parts"),
                ],
                max_length=32,
                verbose_name="CITES class",
            ),
        ),
        migrations.RunPython(declare_classes, migrations.RunPython.noop),
    ]
