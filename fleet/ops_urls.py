"""Fleet in the back office (/ops/fleet/): the dispatch queue and the drivers with their vehicles."""

from django.urls import path

from fleet import ops_views

app_name = "fleet_ops"
urlpatterns = [
    path("dispatch/", ops_views.dispatch_queue, name="dispatch"),
    path("dispatch/rides/<int:pk>/", ops_views.assign, name="assign"),
    path("dispatch/rides/<int:pk>/reassign/", ops_views.reassign, name="reassign"),
    path("dispatch/rides/<int:pk>/unassign/", ops_views.unassign, name="unassign"),
    path("drivers/", ops_views.driver_list, name="drivers"),
    path("drivers/new/", ops_views.driver_create, name="driver_create"),
    path("drivers/<int:pk>/", ops_views.driver_edit, name="driver_edit"),
    path("drivers/<int:pk>/deactivate/", ops_views.driver_deactivate, name="driver_deactivate"),
    path("drivers/<int:pk>/reactivate/", ops_views.driver_reactivate, name="driver_reactivate"),
    path("drivers/<int:pk>/invite/", ops_views.driver_invite, name="driver_invite"),
    path("drivers/<int:pk>/hours/", ops_views.driver_hours, name="driver_hours"),
    path("drivers/<int:pk>/hours/time-off/", ops_views.driver_time_off_add, name="driver_time_off_add"),
    path(
        "drivers/<int:pk>/hours/time-off/<int:time_off_pk>/delete/",
        ops_views.driver_time_off_delete,
        name="driver_time_off_delete",
    ),
]
