from django.urls import path

from . import views

app_name = "configuration"

urlpatterns = [
    path("", views.store_list, name="store-list"),
    path("add/", views.store_add, name="store-add"),
    path("<int:pk>/", views.basic_configuration, name="store-detail"),
    path("<int:pk>/basic/", views.basic_configuration, name="basic"),
    path("<int:pk>/basic/options/", views.basic_configuration_options, name="basic-options"),
    path("<int:pk>/basic/test-email/", views.notification_test, name="notification-test"),
    path("<int:pk>/basic/locations/", views.location_mapping, name="location-mapping"),
    path("<int:pk>/basic/locations/refresh/", views.locations_refresh, name="locations-refresh"),
    path("<int:pk>/cart/", views.cart_configuration, name="cart"),
    path("<int:pk>/cart/test/", views.connection_test, name="connection-test"),
    path("<int:pk>/sync/", views.synchronization, name="sync"),
    path("<int:pk>/logs/", views.logs, name="logs"),
]
