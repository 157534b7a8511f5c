"""The forms of the audit and utilization pages (the API has its own serializers)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms

from floorplans.models import Zone
from readers.models import Reader
from tracking.assets.mobile_readers import mobile_readers
from tracking.assets.serializers_audits import MAX_MISSING_AFTER_DAYS, MAX_SEEN_WITHIN_H
from tracking.models import Asset, Audit


class ZoneChoice(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name} · {obj.floor.name}"


class ZonesChoice(forms.ModelMultipleChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name} ({obj.get_kind_display()}) · {obj.floor.name}"


class ReaderChoice(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name} ({obj.code})"


def _wards() -> Any:
    return Zone.objects.filter(kind=Zone.Kind.WARD).select_related("floor").order_by("floor__level", "name")


def _zones() -> Any:
    return Zone.objects.exclude(kind=Zone.Kind.BED).select_related("floor").order_by("floor__level", "name")


class AuditStartForm(forms.Form):
    kind = forms.ChoiceField(choices=Audit.Kind.choices, initial=Audit.Kind.HANDS_FREE, widget=forms.RadioSelect)
    department = ZoneChoice(queryset=_wards(), required=False, empty_label="(none: the zones below)")
    zones = ZonesChoice(queryset=_zones(), required=False, widget=forms.SelectMultiple(attrs={"size": 6}),
                        help_text="audit these zones (and the zones inside them) instead of the whole department")
    seen_within_h = forms.IntegerField(min_value=1, max_value=MAX_SEEN_WITHIN_H, initial=24,
                                       label="found if seen within (h)")
    missing_after_days = forms.IntegerField(min_value=1, max_value=MAX_MISSING_AFTER_DAYS, initial=3,
                                            label="missing if seen nowhere for (days)")
    reader = ReaderChoice(queryset=mobile_readers(), required=False, to_field_name="code",
                          empty_label="(none: upload reads files)", label="handheld reader")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # querysets are evaluated per form, so new wards and readers show without a restart
        self.fields["department"].queryset = _wards()  # type: ignore[attr-defined]
        self.fields["zones"].queryset = _zones()  # type: ignore[attr-defined]
        self.fields["reader"].queryset = mobile_readers()  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("department") and not data.get("zones"):
            raise forms.ValidationError("Choose a department or at least one zone.")
        if data.get("kind") == Audit.Kind.HANDS_FREE and data.get("reader"):
            self.add_error("reader", "A hands-free audit uses no reader.")
        return data

    def scope(self) -> dict[str, Any]:
        data = self.cleaned_data
        department: Zone | None = data.get("department")
        reader: Reader | None = data.get("reader")
        return {"department_id": department.pk if department else None,
                "zone_ids": [z.pk for z in data.get("zones") or []], "seen_within_h": data["seen_within_h"],
                "missing_after_days": data["missing_after_days"], "reader_code": reader.code if reader else ""}


def _day_input() -> forms.DateInput:
    """A browser date picker: its value must be ISO (YYYY-MM-DD) whatever the locale's date format."""
    return forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})


class UtilizationForm(forms.Form):
    start = forms.DateField(required=False, widget=_day_input(), label="from")
    end = forms.DateField(required=False, widget=_day_input(), label="to (included)")
    category = forms.ChoiceField(choices=[("", "all categories"), *Asset.Category.choices], required=False)
    department = ZoneChoice(queryset=_wards(), required=False, empty_label="all units", label="unit")
    missing_after_h = forms.FloatField(min_value=1, max_value=24 * 90, initial=24, required=False,
                                       label="missing after (h unseen)")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = _wards()  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start: date | None = data.get("start")
        end: date | None = data.get("end")
        if start and end and end < start:
            self.add_error("end", "The period ends before it starts.")
        return data
