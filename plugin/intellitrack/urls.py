from django.urls import path

from . import views

app_name = "intellitrack"

urlpatterns = [
    path("inventory/", views.inventory_list, name="inventory-list"),
    path("inventory/export.csv", views.inventory_csv, name="inventory-csv"),
    path("inventory/<int:pk>/adjust/", views.inventory_adjust, name="inventory-adjust"),
    path("items/", views.item_list, name="item-list"),
    path("items/<int:pk>/", views.item_detail, name="item-detail"),
    path("orders/", views.order_list, name="order-list"),
    path("orders/<int:pk>/", views.order_detail, name="order-detail"),
    path("orders/<int:pk>/lines/<int:line_pk>/pick/", views.line_pick, name="line-pick"),
    path("orders/<int:pk>/close/", views.order_close, name="order-close"),
    path("orders/<int:pk>/reopen/", views.order_reopen, name="order-reopen"),
]
