"""The charge nurse's manual admit / transfer / discharge forms on the ward board, and the pharmacy's label form.

They only collect and check input; infusion.services and infusion.bags do the work (the ADT feed and the API go
through the same services). Beds are offered with who lies in them, so the nurse sees the ward; the service
still has the last word (a bed taken a moment ago is refused there and the reason shown in the form).
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.db.models import QuerySet

from floorplans.models import Zone
from infusion.exceptions import BagError, BagExpired, BagInvalid
from infusion.models import Patient
from infusion.selectors import patients_matching


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


# ---- the pharmacy's label form ----

_VOLUME_OR_RATE = "volume_ml|ordered_rate_ml_h"
# which field a refusal of bag_register is about: (exception, a pattern of its message, field); the first
# match wins, anything else is shown above the form. bag_register's wording is pinned by
# tests/infusion/test_pharmacy_views.py, one case per refusal.
_REFUSAL_FIELDS: tuple[tuple[type[BagError], str, str], ...] = (
    (BagExpired, r"expired", "expires_at"),
    (BagInvalid, r"^no patient with MRN ", "patient"),
    (BagInvalid, r" was discharged$", "patient"),
    (BagInvalid, r"^tag ", "tag_id"),
    (BagInvalid, r"^the drug ", "drug"),
    (BagInvalid, r"^volume .* rate ", _VOLUME_OR_RATE),
)


def tag_id_normalize(raw: str) -> str:
    """A tag id as the readers report it: "e2:80:11 70-00" -> "E280117000" (labels print it in pairs)."""
    return re.sub(r"[\s:-]", "", raw).upper()


class BagLabelForm(forms.Form):
    """What the pharmacy types (or scans) to label a bag; infusion.bags.bag_register checks and records it.

    The patient is typed as an MRN or a name: a name that picks out one admitted patient becomes their MRN,
    several are listed back; anything else goes to the service as an MRN (which says it knows none).
    A refusal of the service goes next to the field it is about (`add_refusal`), the typed values kept."""

    tag_id = forms.CharField(label="Tag", max_length=128, widget=forms.TextInput(attrs={
        "autofocus": True, "autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false",
        "enterkeyhint": "next", "placeholder": "Scan the tag on the bag"}))
    patient = forms.CharField(label="Patient", max_length=200, widget=forms.TextInput(attrs={
        "list": "ph-patients", "autocomplete": "off", "placeholder": "MRN or name"}))
    drug = forms.CharField(label="Drug", max_length=200)
    concentration = forms.CharField(label="Concentration", max_length=100, required=False,
                                    widget=forms.TextInput(attrs={"placeholder": "e.g. 5 mg/mL"}))
    volume_ml = forms.FloatField(label="Volume (mL)", widget=forms.NumberInput(attrs={"step": "any",
                                                                                       "inputmode": "decimal"}))
    ordered_rate_ml_h = forms.FloatField(label="Ordered rate (mL/h)", widget=forms.NumberInput(attrs={
        "step": "any", "inputmode": "decimal"}))
    lot = forms.CharField(label="Lot", max_length=64)
    expires_at = forms.DateTimeField(label="Expires", widget=forms.DateTimeInput(
        attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"))

    def clean_tag_id(self) -> str:
        tag_id = tag_id_normalize(self.cleaned_data["tag_id"])
        if not tag_id:
            raise forms.ValidationError("Scan the bag's tag, or type its id.")
        return tag_id

    def clean_patient(self) -> str:
        """The patient's MRN."""
        text: str = self.cleaned_data["patient"]
        found = patients_matching(text=text)
        if len(found) > 1:
            names = "; ".join(f"{p.family_name}, {p.given_name} (MRN {p.mrn})" for p in found[:5])
            raise forms.ValidationError(f"More than one admitted patient matches “{text}”: {names}. "
                                        "Choose one from the list or type the MRN.")
        return found[0].mrn if found else text

    def add_refusal(self, error: BagError) -> None:
        """Show bag_register's refusal next to the field it is about (above the form if none)."""
        message = str(error)
        field = next((field for kind, pattern, field in _REFUSAL_FIELDS
                      if isinstance(error, kind) and re.search(pattern, message)), None)
        if field == _VOLUME_OR_RATE:  # one message names both: it goes with the one that is wrong
            field = "volume_ml" if self.cleaned_data["volume_ml"] <= 0 else "ordered_rate_ml_h"
        self.add_error(field, message)
