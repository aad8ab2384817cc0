from django.urls import path

from . import views

app_name = "sync"

urlpatterns = [
    path("", views.run_list, name="run-list"),
    path("<int:pk>/", views.run_detail, name="run-detail"),
    path("<int:pk>/items.csv", views.run_items_csv, name="run-items-csv"),
    path("<int:pk>/progress/", views.run_progress, name="run-progress"),
    path("<int:pk>/retry/", views.run_retry, name="run-retry"),
    path("start/<int:store_pk>/<str:job>/", views.job_start, name="job-start"),
    path("<int:pk>/acknowledge/", views.run_acknowledge_view, name="run-acknowledge"),
    path("acknowledge/<int:store_pk>/", views.runs_acknowledge_all_view, name="runs-acknowledge-all"),
]
