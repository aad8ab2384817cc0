from django.apps import AppConfig


class BigcommerceConfig(AppConfig):
    name = "plugin.bigcommerce"
    label = "bigcommerce"
