from django.apps import AppConfig


class SmsPlatformConfig(AppConfig):
    name = "sms_platform"
    label = "sms_platform"
    verbose_name = "Platform"
