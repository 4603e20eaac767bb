from django.apps import AppConfig


class TenantsConfig(AppConfig):
    name = "tenants"
    label = "tenants"
    verbose_name = "Countries"

    def ready(self):
        # Any process that may change a country (web, Celery, a command)
        # tells the web processes to look their hosts up again.
        from . import hosts  # noqa: F401
