from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "plugin.audit"
    label = "audit"
