from django.contrib import admin
from django.urls import include, path

from plugin.portal.views import (
    LoginView,
    LogoutView,
    dashboard,
    dashboard_activity,
    dashboard_store_status,
    healthz,
    healthz_live,
    sync_status_panel,
)
from plugin.sync.webhooks import webhook_receive

urlpatterns = [
    path("", dashboard, name="dashboard"),
    path("dashboard/activity/", dashboard_activity, name="dashboard-activity"),
    path("dashboard/stores/<int:store_pk>/status/", dashboard_store_status, name="dashboard-store-status"),
    path("dashboard/stores/<int:store_pk>/sync-status/", sync_status_panel, name="sync-status-panel"),
    path("accounts/login/", LoginView.as_view(), name="login"),
    path("accounts/logout/", LogoutView.as_view(), name="logout"),
    path("healthz", healthz, name="healthz"),
    path("healthz/live", healthz_live, name="healthz-live"),
    path("security/", include("plugin.portal.urls")),
    path("admin/", admin.site.urls),
    path("stores/", include("plugin.configuration.urls")),
    path("intellitrack/", include("plugin.intellitrack.urls")),
    path("runs/", include("plugin.sync.urls")),
    path("hooks/bigcommerce/<int:store_pk>/", webhook_receive, name="bigcommerce-webhook"),
    path("audit/", include("plugin.audit.urls")),
    path("bigcommerce/", include("plugin.bigcommerce.urls")),
    path("api/", include("plugin.api.urls")),
]

# The portal's own error pages (plugin/portal/errors.py); a URL nothing answers under /api/ stays JSON,
# as the schema documents its 404s.
handler403 = "plugin.portal.errors.permission_denied"
handler404 = "plugin.portal.errors.page_not_found"
handler500 = "plugin.portal.errors.server_error"
