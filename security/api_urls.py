"""Security REST endpoints under /api/ (docs/security.md)."""

from __future__ import annotations

from django.urls import path

from security import apis

urlpatterns = [
    path("security/doors/", apis.DoorListApi.as_view(), name="api_security_doors"),
    path("security/doors/<str:code>/command/", apis.DoorCommandApi.as_view(), name="api_security_door_command"),
    path("security/infants/", apis.InfantListApi.as_view(), name="api_security_infants"),
    path("security/infants/enrol/", apis.InfantEnrolApi.as_view(), name="api_security_infant_enrol"),
    path("security/infants/<int:infant_id>/", apis.InfantDetailApi.as_view(), name="api_security_infant"),
    path("security/infants/<int:infant_id>/escort/", apis.InfantEscortApi.as_view(), name="api_security_infant_escort"),
    path("security/infants/<int:infant_id>/escort/end/", apis.InfantEscortEndApi.as_view(),
         name="api_security_infant_escort_end"),
    path("security/infants/<int:infant_id>/discharge/<str:action>/", apis.InfantDischargeApi.as_view(),
         name="api_security_infant_discharge"),
    path("security/enrolment-prompts/", apis.EnrolmentPromptListApi.as_view(), name="api_security_enrolment_prompts"),
    path("security/code-pinks/", apis.CodePinkListApi.as_view(), name="api_security_code_pinks"),
    path("security/code-pinks/start/", apis.CodePinkStartApi.as_view(), name="api_security_code_pink_start"),
    path("security/code-pinks/<int:code_pink_id>/", apis.CodePinkDetailApi.as_view(), name="api_security_code_pink"),
    path("security/code-pinks/<int:code_pink_id>/resolve/", apis.CodePinkResolveApi.as_view(),
         name="api_security_code_pink_resolve"),
    path("security/code-pinks/<int:code_pink_id>/timeline/", apis.CodePinkTimelineApi.as_view(),
         name="api_security_code_pink_timeline"),
    path("security/match-checks/", apis.MatchCheckListApi.as_view(), name="api_security_match_checks"),
    path("security/access-log/", apis.AccessLogApi.as_view(), name="api_security_access_log"),
]
