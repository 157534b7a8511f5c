"""The tracking API's plain endpoints (mounted under api/); the tag and tracked-object viewsets are on the
project router in hospital_iot/urls.py."""

from django.urls import path

from tracking.apis import LocationListApi, NearestApi, OccupancyApi, SearchApi, TagTrailApi

urlpatterns = [
    path("locations/", LocationListApi.as_view(), name="locations"),
    path("search/", SearchApi.as_view(), name="search"),
    path("nearest/", NearestApi.as_view(), name="nearest"),
    path("occupancy/", OccupancyApi.as_view(), name="occupancy"),
    path("tags/<str:tag_id>/trail/", TagTrailApi.as_view(), name="tag_trail"),
]
