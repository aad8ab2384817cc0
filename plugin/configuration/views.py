from django.contrib.auth.mixins import LoginRequiredMixin
from django.views.generic import ListView

from .models import StoreConnection


class StoreListView(LoginRequiredMixin, ListView):
    model = StoreConnection
    template_name = "configuration/store_list.html"
    context_object_name = "stores"
