from django.apps import AppConfig

from ledger import listeners


class ReportingConfig(AppConfig):
    name = "reporting"
    label = "reporting"
    verbose_name = "Reporting"

    def ready(self):
        # The report aggregates move with the custody ledger: the ledger calls
        # this for every entry it appends (same transaction, under its head
        # lock). Registered here because the ledger may not import reporting.
        from .totals import entries_appended, entry_appended

        listeners.register(entry_appended, name="reporting.totals", many=entries_appended)
