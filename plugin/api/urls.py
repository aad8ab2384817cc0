from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.permissions import IsAuthenticated

from . import views

app_name = "api"

# The schema and its docs need a login like every other page of the portal.
_docs = {"permission_classes": [IsAuthenticated]}

urlpatterns = [
    path("inventory/", views.InventoryListView.as_view(), name="inventory-list"),
    path("inventory/adjustments/", views.AdjustmentCreateView.as_view(), name="adjustment-create"),
    path("picking-orders/", views.PickingOrderListView.as_view(), name="picking-order-list"),
    path("picking-orders/<int:pk>/", views.PickingOrderDetailView.as_view(), name="picking-order-detail"),
    path("picking-orders/<int:pk>/close/", views.PickingOrderCloseView.as_view(), name="picking-order-close"),
    path(
        "picking-orders/<int:pk>/reopen/", views.PickingOrderReopenView.as_view(), name="picking-order-reopen"
    ),
    path("picks/", views.PickCreateView.as_view(), name="pick-create"),
    path("schema/", SpectacularAPIView.as_view(**_docs), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema", **_docs), name="docs"),
]
