# The custody ledger now belongs to the ledger app (ledger 0001), which kept
# its tables and installed its own triggers on them. Here custody drops the
# triggers it had installed under its own names and forgets the models; no
# table, row or index is touched.

import pgtrigger.migrations
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('custody', '0002_head_and_settings'),
        ('ledger', '0001_initial'),
    ]

    operations = [
        pgtrigger.migrations.RemoveTrigger(
            model_name='ledgerentry',
            name='ledgerentry_no_delete',
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name='ledgerentry',
            name='ledgerentry_no_update',
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveIndex(
                    model_name='ledgerentry',
                    name='custody_ledger_item_seq',
                ),
                migrations.RemoveConstraint(
                    model_name='ledgerhead',
                    name='custody_ledger_head_single',
                ),
                migrations.DeleteModel(
                    name='LedgerHead',
                ),
                migrations.DeleteModel(
                    name='LedgerEntry',
                ),
            ],
            database_operations=[],
        ),
    ]
