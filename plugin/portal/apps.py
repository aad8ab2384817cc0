from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "plugin.portal"
    label = "portal"
    verbose_name = "Portal"
