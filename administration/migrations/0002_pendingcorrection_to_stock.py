# PendingCorrection now belongs to stock (stock 0005 took it over in Django's
# state, keeping the table and its rows). Here: drop the old never-delete
# trigger (stock's is in place), forget the model without touching the
# table, and keep the permission administration.approve_correction, which
# roles and custom roles hold, on a proxy that stays in this app.
#
# Content types: the existing "administration | pendingcorrection" row
# becomes stock's (its add/change/delete/view permissions follow it, and so do
# the groups holding them), and approve_correction moves to the proxy's
# content type — the same Permission row, so no group loses it. In a new
# schema there is no row yet: post_migrate creates them as the models say.

from django.db import migrations

import pgtrigger.migrations


def _move(apps, schema_editor, *, table_from, table_to, approval_from, approval_to):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    db = schema_editor.connection.alias
    types = ContentType.objects.using(db)
    permissions = Permission.objects.using(db)
    source = types.filter(app_label=table_from[0], model=table_from[1]).first()
    if source is None:
        return
    approval_source = types.filter(app_label=approval_from[0], model=approval_from[1]).first()
    approval_target, _ = types.get_or_create(app_label=approval_to[0], model=approval_to[1])
    if approval_source is not None:
        permissions.filter(content_type=approval_source, codename="approve_correction").update(
            content_type=approval_target
        )
    target = types.filter(app_label=table_to[0], model=table_to[1]).first()
    if target is None:
        source.app_label, source.model = table_to
        source.save(update_fields=["app_label", "model"])
        return
    # Both exist (post_migrate ran in between): move what the target lacks;
    # the source stays behind as a stale type with nothing attached.
    have = set(permissions.filter(content_type=target).values_list("codename", flat=True))
    permissions.filter(content_type=source).exclude(codename__in=have).update(content_type=target)


def forwards(apps, schema_editor):
    _move(
        apps,
        schema_editor,
        table_from=("administration", "pendingcorrection"),
        table_to=("stock", "pendingcorrection"),
        approval_from=("administration", "pendingcorrection"),
        approval_to=("administration", "correctionapproval"),
    )


def backwards(apps, schema_editor):
    _move(
        apps,
        schema_editor,
        table_from=("stock", "pendingcorrection"),
        table_to=("administration", "pendingcorrection"),
        approval_from=("administration", "correctionapproval"),
        approval_to=("stock", "pendingcorrection"),
    )


class Migration(migrations.Migration):

    dependencies = [
        ('administration', '0001_initial'),
        ('stock', '0007_pendingcorrection'),
        ('contenttypes', '0002_remove_content_type_name'),
        ('auth', '0012_alter_user_first_name_max_length'),
    ]

    operations = [
        pgtrigger.migrations.RemoveTrigger(
            model_name='pendingcorrection',
            name='pendingcorrection_no_delete',
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name='PendingCorrection')],
            database_operations=[],
        ),
        migrations.CreateModel(
            name='CorrectionApproval',
            fields=[],
            options={
                'verbose_name': 'correction waiting for approval',
                'verbose_name_plural': 'corrections waiting for approval',
                'permissions': [('approve_correction', 'Can approve or reject corrections')],
                'proxy': True,
                'default_permissions': (),
                'indexes': [],
                'constraints': [],
            },
            bases=('stock.pendingcorrection',),
        ),
        migrations.RunPython(forwards, backwards),
    ]
