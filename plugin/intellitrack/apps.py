from django.apps import AppConfig


class IntellitrackConfig(AppConfig):
    name = "plugin.intellitrack"
    label = "intellitrack"
    verbose_name = "IntelliTrack (embedded)"
