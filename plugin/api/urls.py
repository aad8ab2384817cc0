from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from . import pages, views
from .permissions import HasARole

app_name = "api"

# The schema and its docs need a login with a role, like every other page of the portal. The split
# Swagger view serves its start-up script as a file, so the Content-Security-Policy needs no inline script.
_docs = {"permission_classes": [HasARole]}

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
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema", **_docs), name="docs"),
    path("tokens/", pages.api_tokens, name="tokens"),
    path("tokens/revoke/", pages.api_token_revoke_view, name="token-revoke"),
]
