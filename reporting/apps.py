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
