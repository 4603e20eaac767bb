"""Mark serials are counted per (year, mark pattern) instead of per (year,
category), so categories sharing a pattern can never produce the same mark.

contract: drops MarkSerial.category, before the first release (no running
release reads it)."""

from django.db import migrations, models

DEFAULT_PATTERN = "{country} {yy}/{serial}/{weight}"


def fill_series(apps, schema_editor):
    MarkSerial = apps.get_model("stock", "MarkSerial")
    merged = {}
    for row in MarkSerial.objects.select_related("category"):
        series = (row.category.mark_pattern or "").strip() or DEFAULT_PATTERN
        key = (row.year, series)
        merged[key] = max(merged.get(key, 0), row.last_serial)
    MarkSerial.objects.all().delete()
    MarkSerial.objects.bulk_create(
        [MarkSerial(year=y, series=s, last_serial=n) for (y, s), n in merged.items()]
    )


class Migration(migrations.Migration):
    dependencies = [("stock", "0002_register")]

    operations = [
        migrations.RemoveConstraint(model_name="markserial", name="stock_markserial_unique"),
        migrations.AddField(
            model_name="markserial",
            name="series",
            field=models.CharField(default="", max_length=100, verbose_name="mark series"),
            preserve_default=False,
        ),
        migrations.RunPython(fill_series, migrations.RunPython.noop),
        migrations.RemoveField(model_name="markserial", name="category"),
        migrations.AddConstraint(
            model_name="markserial",
            constraint=models.UniqueConstraint(
                fields=("year", "series"), name="stock_markserial_year_series"
            ),
        ),
    ]
