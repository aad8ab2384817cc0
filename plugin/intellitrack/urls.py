from django.urls import path

from . import views
from .masterdata import KINDS

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
    path("masterdata/", views.masterdata_index, name="masterdata"),
]

for _slug in KINDS:
    urlpatterns += [
        path(f"masterdata/{_slug}/", views.masterdata_list, {"kind": _slug}, name=f"masterdata-{_slug}-list"),
        path(f"masterdata/{_slug}/new/", views.masterdata_add, {"kind": _slug}, name=f"masterdata-{_slug}-add"),
        path(f"masterdata/{_slug}/<int:pk>/", views.masterdata_edit, {"kind": _slug},
             name=f"masterdata-{_slug}-edit"),
        path(f"masterdata/{_slug}/<int:pk>/delete/", views.masterdata_delete, {"kind": _slug},
             name=f"masterdata-{_slug}-delete"),
    ]
