from django.urls import path

from floorplans import views

urlpatterns = [
    path("", views.floor_list, name="home"),
    path("floors/<int:floor_id>/", views.floor_detail, name="floor_detail"),
    path("floors/<int:floor_id>/plan.png", views.floor_plan_image, name="floor_plan_image"),
    path("map/", views.map_home, name="map_home"),
    path("floors/<int:floor_id>/map/", views.floor_map, name="floor_map"),
    path("floors/<int:floor_id>/map.json", views.floor_map_data, name="floor_map_data"),
]
