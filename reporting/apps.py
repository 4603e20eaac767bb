from django.apps import AppConfig

from ledger import listeners


class ReportingConfig(AppConfig):
    name = "reporting"
    label = "reporting"
    verbose_name = "Reporting"

    def ready(self):
        # The report aggregates move with the custody ledger: the ledger calls
        # this with the entries of every append, one or a batch (same
        # transaction, under its head lock). Registered here because the
        # ledger may not import reporting.
        from .totals import entries_appended

        listeners.register(entries_appended, name="reporting.totals")

        # The dashboard's month-end balances are kept per category: a type
        # moved to another category (provisioning) moves its whole history.
        from django.db.models.signals import post_save

        from .totals import type_saved

        post_save.connect(type_saved, sender="stock.ItemType", dispatch_uid="reporting_type_saved")
