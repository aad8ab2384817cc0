from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from .views import healthz

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="configuration:store-list", permanent=False)),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("stores/", include("plugin.configuration.urls")),
    path("intellitrack/", include("plugin.intellitrack.urls")),
    path("runs/", include("plugin.sync.urls")),
    path("audit/", include("plugin.audit.urls")),
    path("bigcommerce/", include("plugin.bigcommerce.urls")),
    path("api/", include("plugin.api.urls")),
]
