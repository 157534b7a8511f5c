"""The charge nurse's manual admit / transfer / discharge forms on the ward board.

They only collect and check input; infusion.services does the work (the ADT feed goes through the same
services). Beds are offered with who lies in them, so the nurse sees the ward; the service still has the
last word (a bed taken a moment ago is refused there and the reason shown in the form).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet

from floorplans.models import Zone
from infusion.models import Patient


def beds_of(ward_ids: list[int] | None) -> QuerySet[Zone]:
    """The beds of these wards (None: of every ward), ward by ward."""
    beds = Zone.objects.filter(kind=Zone.Kind.BED).select_related("ward")
    if ward_ids is not None:
        beds = beds.filter(ward_id__in=ward_ids)
    return beds.order_by("ward__name", "code")


def admitted_on(ward: Zone) -> QuerySet[Patient]:
    """The patients lying in a bed of this ward now."""
    return Patient.objects.filter(ward=ward, discharged_at__isnull=True, bed__isnull=False).select_related("bed")


class BedChoiceField(forms.ModelChoiceField[Zone]):
    """A bed, labelled with its ward and its occupant (or "free"), so a taken bed is visible in the list."""

    def __init__(self, *args: Any, occupants: dict[int, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.occupants = occupants

    def label_from_instance(self, obj: Zone) -> str:
        ward = obj.ward.name if obj.ward is not None else "no ward"
        return f"{ward} · {obj.name} — {self.occupants.get(obj.pk, 'free')}"


def _occupants() -> dict[int, str]:
    rows = Patient.objects.filter(discharged_at__isnull=True, bed__isnull=False).values_list(
        "bed_id", "family_name", "given_name")
    return {bed_id: f"{family}, {given}" for bed_id, family, given in rows}


class PatientChoiceField(forms.ModelChoiceField[Patient]):
    def label_from_instance(self, obj: Patient) -> str:
        bed = obj.bed.name if obj.bed is not None else "no bed"
        return f"{obj.family_name}, {obj.given_name} · MRN {obj.mrn} · {bed}"


class AdmitForm(forms.Form):
    prefix = "admit"

    mrn = forms.CharField(label="MRN", max_length=32, strip=True)
    family_name = forms.CharField(label="Family name", max_length=100, strip=True)
    given_name = forms.CharField(label="Given name", max_length=100, strip=True)
    birth_date = forms.DateField(label="Date of birth", required=False,
                                 widget=forms.DateInput(attrs={"type": "date"}))
    sex = forms.ChoiceField(label="Sex", choices=Patient.Sex.choices, initial=Patient.Sex.UNKNOWN)
    bed = BedChoiceField(queryset=Zone.objects.none(), occupants={}, label="Bed", empty_label="Choose a bed…")

    def __init__(self, *args: Any, ward: Zone, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        bed = self.fields["bed"]
        assert isinstance(bed, BedChoiceField)
        bed.queryset, bed.occupants = beds_of([ward.pk]), _occupants()

    def clean_mrn(self) -> str:
        mrn: str = self.cleaned_data["mrn"]
        if Patient.objects.filter(mrn=mrn, discharged_at__isnull=True, bed__isnull=False).exists():
            raise forms.ValidationError(f"MRN {mrn} is already admitted; transfer the patient instead.")
        return mrn


class TransferForm(forms.Form):
    prefix = "transfer"

    patient = PatientChoiceField(queryset=Patient.objects.none(), to_field_name="mrn", label="Patient",
                                 empty_label="Choose a patient…")
    bed = BedChoiceField(queryset=Zone.objects.none(), occupants={}, label="To bed", empty_label="Choose a bed…")

    def __init__(self, *args: Any, ward: Zone, ward_ids: list[int] | None, **kwargs: Any) -> None:
        """`ward_ids`: the wards the nurse may move patients to (None: every ward)."""
        super().__init__(*args, **kwargs)
        patient, bed = self.fields["patient"], self.fields["bed"]
        assert isinstance(patient, PatientChoiceField) and isinstance(bed, BedChoiceField)
        patient.queryset = admitted_on(ward)
        bed.queryset, bed.occupants = beds_of(ward_ids), _occupants()

    def clean(self) -> dict[str, Any] | None:
        data = super().clean()
        if data and data.get("patient") is not None and data["patient"].bed_id == getattr(data.get("bed"), "pk", None):
            raise forms.ValidationError("The patient already lies in that bed.")
        return data


class DischargeForm(forms.Form):
    prefix = "discharge"

    patient = PatientChoiceField(queryset=Patient.objects.none(), to_field_name="mrn", label="Patient",
                                 empty_label="Choose a patient…")

    def __init__(self, *args: Any, ward: Zone, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        patient = self.fields["patient"]
        assert isinstance(patient, PatientChoiceField)
        patient.queryset = admitted_on(ward)
