from django.apps import AppConfig


class SyncConfig(AppConfig):
    name = "plugin.sync"
    label = "sync"
