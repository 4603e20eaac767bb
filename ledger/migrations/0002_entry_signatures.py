# Entries are signed (ledger.signing) from now on. This migration only adds the
# columns: it signs nothing. A migration runs again as soon as its row in
# django_migrations is deleted, so one that signed existing entries would
# sign a chain rewritten by anyone with the database owner's password (drop
# the columns, delete the row, wait for the next routine migrate). A new
# country has no entries when it runs; a country upgraded with entries gets
# them signed once, by an operator holding the key, with
# ``manage.py ledger_sign_backfill`` (README, "Signing and checkpoints").

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('ledger', '0001_initial'),
        # The old-named triggers are gone (custody 0003): only the ledger's own
        # never-update trigger needs switching off.
        ('custody', '0003_ledger_moves_to_its_own_app'),
    ]

    operations = [
        migrations.AddField(
            model_name='ledgerentry',
            name='signature',
            field=models.CharField(default='', max_length=88, verbose_name='signature'),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name='ledgerhead',
            name='signatures_backfilled_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='ledgerhead',
            name='signatures_backfilled_to',
            field=models.BigIntegerField(default=0),
        ),
    ]
