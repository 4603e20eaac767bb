# PendingCorrection moves from the administration app to stock (the correction
# path is stock's). The table keeps its name and its rows: this migration only
# tells Django's state that stock owns it (administration 0002 forgets it),
# and puts the never-delete trigger under stock's name before administration
# 0002 drops the old one, so the table is never unprotected.

import django.db.models.deletion
import django.utils.timezone
import pgtrigger.compiler
import pgtrigger.migrations
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('stock', '0006_form_submission'),
        # The table was made by administration's first migration.
        ('administration', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='PendingCorrection',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('changes', models.JSONField(verbose_name='changes')),
                        ('current', models.JSONField(default=dict, verbose_name='values when asked')),
                        ('reason', models.TextField(verbose_name='reason')),
                        ('requested_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='asked')),
                        ('status', models.CharField(choices=[('pending', 'Waiting for approval'), ('approved', 'Approved'), ('rejected', 'Rejected')], default='pending', max_length=16, verbose_name='status')),
                        ('decided_at', models.DateTimeField(blank=True, null=True, verbose_name='decided')),
                        ('decision_note', models.TextField(blank=True, verbose_name='note')),
                        ('decided_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='decided by')),
                        ('item', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='pending_corrections', to='stock.stockitem', verbose_name='item')),
                        ('requested_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='asked by')),
                    ],
                    options={
                        'verbose_name': 'correction waiting for approval',
                        'verbose_name_plural': 'corrections waiting for approval',
                        'db_table': 'administration_pendingcorrection',
                        'ordering': ['-requested_at'],
                        'indexes': [models.Index(fields=['status', '-requested_at'], name='admin_pending_status')],
                    },
                ),
            ],
            database_operations=[],
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='pendingcorrection',
            trigger=pgtrigger.compiler.Trigger(name='pendingcorrection_no_delete', sql=pgtrigger.compiler.UpsertTriggerSql(func="RAISE EXCEPTION 'pgtrigger: Cannot delete rows from % table', TG_TABLE_NAME;", hash='61e8318b13a091a8cba616d6bd8b0c7e1daefc1f', operation='DELETE', pgid='pgtrigger_pendingcorrection_no_delete_4b650', table='administration_pendingcorrection', when='BEFORE')),
        ),
    ]
