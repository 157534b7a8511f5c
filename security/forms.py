"""The infants page's forms (enrol, register a mother, escort, discharge, match check). They only collect and
check input; security.services does the work and has the last word (its refusal is shown in the form)."""

from __future__ import annotations

from typing import Any

from django import forms

from security.console import wards_for_infants
from security.models import Infant, LocationAccess, Mother
from security.services import ESCORT_MINUTES


class MotherChoiceField(forms.ModelChoiceField[Mother]):
    def label_from_instance(self, obj: Mother) -> str:
        tag = obj.tracked_object.tag
        return f"{obj.tracked_object.name} · tag {tag.tag_id}" if tag else obj.tracked_object.name


class InfantChoiceField(forms.ModelChoiceField[Infant]):
    def label_from_instance(self, obj: Infant) -> str:
        return f"{obj.tracked_object.name} · {obj.ward.name}"


def _mothers() -> Any:
    return Mother.objects.select_related("tracked_object__tag").order_by("tracked_object__name")


class EnrolForm(forms.Form):
    prefix = "enrol"

    tag_id = forms.CharField(label="Band tag", max_length=128, strip=True)
    name = forms.CharField(label="Infant's name", max_length=200, strip=True,
                           help_text='as on the cot card, e.g. "Baby girl Okafor"')
    ward = forms.ModelChoiceField(queryset=wards_for_infants(), label="Ward", empty_label="Choose a ward…")
    mother = MotherChoiceField(queryset=Mother.objects.none(), label="Mother", required=False,
                               empty_label="no mother tag yet")
    born_at = forms.DateTimeField(label="Born", required=False,
                                  widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        mother = self.fields["mother"]
        assert isinstance(mother, MotherChoiceField)
        mother.queryset = _mothers()


class MotherForm(forms.Form):
    prefix = "mother"

    tag_id = forms.CharField(label="Band tag", max_length=128, strip=True)
    name = forms.CharField(label="Mother's name", max_length=200, strip=True)
    ward = forms.ModelChoiceField(queryset=wards_for_infants(), label="Ward", empty_label="Choose a ward…")


class EscortForm(forms.Form):
    prefix = "escort"

    destination = forms.CharField(label="To", max_length=200, strip=True, help_text="e.g. radiology, NICU")
    reason = forms.CharField(label="Why", max_length=200, strip=True, required=False)
    minutes = forms.IntegerField(label="For (minutes)", min_value=ESCORT_MINUTES[0], max_value=ESCORT_MINUTES[1],
                                 initial=60)


class NoteForm(forms.Form):
    prefix = "note"

    note = forms.CharField(label="Note", max_length=200, strip=True, required=False)


class DischargeForm(forms.Form):
    prefix = "discharge"

    reason = forms.CharField(label="Reason", max_length=200, strip=True, required=False,
                             help_text="needed to request: e.g. discharged home with her mother")


class MatchCheckForm(forms.Form):
    prefix = "match"

    mother = MotherChoiceField(queryset=Mother.objects.none(), label="Mother", empty_label="Choose the mother…")
    infant = InfantChoiceField(queryset=Infant.objects.none(), label="Infant", empty_label="Choose the infant…")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        mother, infant = self.fields["mother"], self.fields["infant"]
        assert isinstance(mother, MotherChoiceField) and isinstance(infant, InfantChoiceField)
        mother.queryset = _mothers()
        infant.queryset = Infant.objects.filter(state__in=Infant.ARMED_STATES).select_related(
            "tracked_object", "ward").order_by("tracked_object__name")


class AccessFilterForm(forms.Form):
    """The access log page's filters (GET)."""

    user = forms.CharField(label="User", max_length=150, required=False, strip=True)
    infant = forms.ModelChoiceField(queryset=Infant.objects.select_related("tracked_object")
                                    .order_by("tracked_object__name"), label="Infant", required=False,
                                    empty_label="any infant")
    via = forms.ChoiceField(label="Via", required=False, choices=[("", "any way")])
    since = forms.DateTimeField(label="From", required=False,
                                widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    until = forms.DateTimeField(label="Until", required=False,
                                widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        via = self.fields["via"]
        assert isinstance(via, forms.ChoiceField)
        via.choices = [("", "any way"), *LocationAccess.Via.choices]
