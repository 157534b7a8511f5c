"""Infusion REST endpoints under /api/ (docs/infusion.md)."""

from __future__ import annotations

from django.urls import path

from infusion.apis import (
    BagActionApi,
    BagDetailApi,
    BagFhirApi,
    BagListApi,
    BagScanApi,
    BagTimelineApi,
    PatientListApi,
    WardBoardApi,
)

urlpatterns = [
    path("infusion/bags/", BagListApi.as_view(), name="infusion_bags"),
    path("infusion/bags/<int:bag_id>/", BagDetailApi.as_view(), name="infusion_bag"),
    path("infusion/bags/<int:bag_id>/timeline/", BagTimelineApi.as_view(), name="infusion_bag_timeline"),
    path("infusion/bags/<int:bag_id>/fhir/", BagFhirApi.as_view(), name="infusion_bag_fhir"),
    path("infusion/bags/<int:bag_id>/<str:action>/", BagActionApi.as_view(), name="infusion_bag_action"),
    path("infusion/scan/<str:tag_id>/", BagScanApi.as_view(), name="infusion_scan"),
    path("infusion/wards/<int:ward_id>/board/", WardBoardApi.as_view(), name="infusion_ward_board"),
    path("infusion/patients/", PatientListApi.as_view(), name="infusion_patients"),
]
