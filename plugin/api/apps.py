from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "plugin.api"
    label = "api"
