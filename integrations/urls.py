"""/settings/crm/ (included by prm/urls.py): URL names ``crm:list``, ``crm:detail``, ``crm:credentials``,
``crm:sync``, ``crm:resync``, ``crm:mapping``, ``crm:mapping_add``, ``crm:mapping_delete``."""

from django.urls import path

from integrations import views

app_name = "crm"

urlpatterns = [
    path("", views.connection_list, name="list"),
    path("<int:pk>/", views.connection_detail, name="detail"),
    path("<int:pk>/credentials/", views.connection_credentials, name="credentials"),
    path("<int:pk>/sync/", views.connection_sync, name="sync"),
    path("<int:pk>/resync/", views.connection_resync, name="resync"),
    path("<int:pk>/mappings/<int:mapping_pk>/", views.mapping_edit, name="mapping"),
    path("<int:pk>/mappings/<int:mapping_pk>/delete/", views.mapping_delete, name="mapping_delete"),
    path("<int:pk>/mappings/new/<slug:object>/", views.mapping_add, name="mapping_add"),
]
