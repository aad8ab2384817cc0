from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ConfigurationConfig(AppConfig):
    name = "plugin.configuration"
    label = "configuration"
    verbose_name = "Store configuration"

    def ready(self):
        from .roles import roles_ensure_after_migrate

        # Roles reference permissions that only exist once every app has migrated.
        post_migrate.connect(roles_ensure_after_migrate, dispatch_uid="itbc-roles")
