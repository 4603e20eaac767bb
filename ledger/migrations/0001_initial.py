# The custody ledger moves out of custody into its own app, keeping its
# tables: the models are created in the migration state only (the tables
# custody_ledgerentry and custody_ledgerhead, their rows and indexes stay as
# they are), then the never-update/never-delete triggers are installed under
# this app's names. custody 0003 drops the old-named triggers after this one
# has installed the new ones, so the entries are never unprotected; both run
# in each country's migration transaction.

import django.db.models.deletion
import pgtrigger.compiler
import pgtrigger.migrations
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('custody', '0002_head_and_settings'),
        ('stock', '0004_item_list_order_index'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='LedgerHead',
                    fields=[
                        ('id', models.PositiveSmallIntegerField(default=1, editable=False, primary_key=True, serialize=False)),
                        ('last_sequence', models.BigIntegerField(default=0)),
                        ('last_hash', models.CharField(default='0000000000000000000000000000000000000000000000000000000000000000', max_length=64)),
                    ],
                    options={
                        'db_table': 'custody_ledgerhead',
                        'constraints': [models.CheckConstraint(condition=models.Q(('id', 1)), name='custody_ledger_head_single')],
                    },
                ),
                migrations.CreateModel(
                    name='LedgerEntry',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('sequence', models.BigIntegerField(unique=True, verbose_name='sequence')),
                        ('event', models.CharField(choices=[('registered', 'Registered'), ('correction', 'Corrected'), ('archived', 'Archived'), ('dispatched', 'Dispatched in a transfer'), ('received', 'Received from a transfer'), ('discrepancy', 'Discrepancy raised'), ('discrepancy_resolved', 'Discrepancy resolved'), ('stocktake_checked', 'Checked in a stock-take'), ('stocktake_missing', 'Missing at a stock-take'), ('stocktake_found', 'Found again at a stock-take')], max_length=32, verbose_name='event')),
                        ('occurred_at', models.DateTimeField(verbose_name='when')),
                        ('actor_name', models.CharField(max_length=150, verbose_name='who')),
                        ('payload', models.JSONField(default=dict, verbose_name='what')),
                        ('prev_hash', models.CharField(max_length=64, verbose_name='previous hash')),
                        ('hash', models.CharField(max_length=64, verbose_name='hash')),
                        ('actor', models.ForeignKey(db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='who')),
                        ('item', models.ForeignKey(db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='stock.stockitem', verbose_name='item')),
                        ('site', models.ForeignKey(db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='stock.site', verbose_name='where')),
                        ('stocktake', models.ForeignKey(db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='custody.stocktake')),
                        ('transfer', models.ForeignKey(db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='custody.transfer')),
                    ],
                    options={
                        'verbose_name': 'ledger entry',
                        'verbose_name_plural': 'ledger entries',
                        'db_table': 'custody_ledgerentry',
                        'ordering': ['sequence'],
                        'indexes': [models.Index(fields=['item', 'sequence'], name='custody_ledger_item_seq')],
                    },
                ),
            ],
            database_operations=[],
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='ledgerentry',
            trigger=pgtrigger.compiler.Trigger(name='ledgerentry_no_delete', sql=pgtrigger.compiler.UpsertTriggerSql(func="RAISE EXCEPTION 'pgtrigger: Cannot delete rows from % table', TG_TABLE_NAME;", hash='eacf9cc7abbb08c4f31c0a266559a0741faf75ef', operation='DELETE', pgid='pgtrigger_ledgerentry_no_delete_e8669', table='custody_ledgerentry', when='BEFORE')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='ledgerentry',
            trigger=pgtrigger.compiler.Trigger(name='ledgerentry_no_update', sql=pgtrigger.compiler.UpsertTriggerSql(func="RAISE EXCEPTION 'pgtrigger: Cannot update rows from % table', TG_TABLE_NAME;", hash='98ff9a121ae19d9ae122a118c1aab3039b735874', operation='UPDATE', pgid='pgtrigger_ledgerentry_no_update_b6c8a', table='custody_ledgerentry', when='BEFORE')),
        ),
    ]
