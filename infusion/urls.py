"""Infusion pages: the ward infusion board, bag timelines, admit/transfer/discharge, the pharmacy."""

from __future__ import annotations

from django.urls import path

from infusion import views

urlpatterns = [
    path("infusion/", views.ward_list, name="infusion_wards"),
    path("infusion/wards/<int:ward_id>/", views.ward_board, name="infusion_board"),
    path("infusion/wards/<int:ward_id>/admit/", views.patient_admit, name="infusion_patient_admit"),
    path("infusion/wards/<int:ward_id>/transfer/", views.patient_transfer, name="infusion_patient_transfer"),
    path("infusion/wards/<int:ward_id>/discharge/", views.patient_discharge, name="infusion_patient_discharge"),
    path("infusion/bags/<int:bag_id>/", views.bag_detail, name="infusion_bag_page"),
    path("infusion/pharmacy/", views.pharmacy, name="infusion_pharmacy"),
    path("infusion/pharmacy/queue/", views.pharmacy_queue_rows, name="infusion_pharmacy_queue"),
    path("infusion/pharmacy/bags/", views.pharmacy_label, name="infusion_pharmacy_label"),
    path("infusion/pharmacy/dispense/", views.pharmacy_dispense, name="infusion_pharmacy_dispense"),
    path("infusion/pharmacy/bags/<int:bag_id>/label/", views.pharmacy_bag_label, name="infusion_pharmacy_bag_label"),
]
