from django.db import migrations


def seed(apps, schema_editor):
    # The chain's head and the settings row exist in every country from the start.
    apps.get_model("custody", "LedgerHead").objects.get_or_create(id=1)
    apps.get_model("custody", "CustodySettings").objects.get_or_create(id=1)


class Migration(migrations.Migration):
    dependencies = [("custody", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
