"""The forms of the rules pages: a status rule, a forbidden zone, a PAR level. They only check shape; the
services (tracking.assets.services_rules) decide, and their ValidationErrors are put back on the form."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from floorplans.models import Zone
from tracking.models import Asset, ForbiddenZone, ParLevel, StatusRule

ANY = [("", "any")]


def _zones() -> forms.ModelChoiceField[Zone]:
    return forms.ModelChoiceField(
        queryset=Zone.objects.select_related("floor").exclude(kind=Zone.Kind.BED).order_by("floor", "name"),
        required=False, label="Zone", help_text="one zone (and the zones inside it), or leave empty and choose a kind",
    )


def _zone_label(zone: Zone) -> str:
    return f"{zone.name} ({zone.floor.name})"


class ZoneLabelMixin:
    def label_zones(self) -> None:
        for name in ("zone", "ward"):
            field = getattr(self, "fields", {}).get(name)
            if isinstance(field, forms.ModelChoiceField):
                field.label_from_instance = _zone_label  # type: ignore[method-assign,assignment]


class StatusRuleForm(ZoneLabelMixin, forms.Form):
    name = forms.CharField(max_length=100)
    zone_kind = forms.ChoiceField(choices=[("", "—"), *Zone.Kind.choices], required=False, label="Zone kind")
    zone = _zones()
    category = forms.ChoiceField(choices=[*ANY, *Asset.Category.choices], required=False)
    from_statuses = forms.MultipleChoiceField(
        choices=Asset.Status.choices, required=False, widget=forms.CheckboxSelectMultiple, label="From statuses",
        help_text="none ticked: any status but out for repair and retired",
    )
    status = forms.ChoiceField(choices=Asset.Status.choices, label="Sets status")
    after_s = forms.IntegerField(min_value=0, max_value=7 * 24 * 3600, initial=0, label="After (seconds in the zone)")
    priority = forms.IntegerField(min_value=-100, max_value=100, initial=0)
    enabled = forms.BooleanField(required=False, initial=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.label_zones()

    @classmethod
    def initial_of(cls, rule: StatusRule) -> dict[str, Any]:
        return {"name": rule.name, "zone_kind": rule.zone_kind, "zone": rule.zone, "category": rule.category,
                "from_statuses": rule.from_statuses, "status": rule.status, "after_s": rule.after_s,
                "priority": rule.priority, "enabled": rule.enabled}


class ForbiddenZoneForm(ZoneLabelMixin, forms.Form):
    zone_kind = forms.ChoiceField(choices=[("", "—"), *Zone.Kind.choices], required=False, label="Zone kind")
    zone = _zones()
    category = forms.ChoiceField(choices=[*ANY, *Asset.Category.choices], required=False)
    note = forms.CharField(max_length=200, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.label_zones()

    @classmethod
    def initial_of(cls, spec: ForbiddenZone) -> dict[str, Any]:
        return {"zone_kind": spec.zone_kind, "zone": spec.zone, "category": spec.category, "note": spec.note}


class ParLevelForm(ZoneLabelMixin, forms.Form):
    zone = forms.ModelChoiceField(queryset=Zone.objects.select_related("floor").exclude(kind=Zone.Kind.BED)
                                  .order_by("floor", "name"), label="Zone")
    category = forms.ChoiceField(choices=Asset.Category.choices)
    target_count = forms.IntegerField(min_value=0, max_value=10_000, label="Target")
    critical_count = forms.IntegerField(min_value=0, max_value=10_000, label="Critical",
                                        help_text="below this the ward's nurses are alerted")
    ward = forms.ModelChoiceField(queryset=Zone.objects.select_related("floor").filter(kind=Zone.Kind.WARD)
                                  .order_by("name"), required=False, label="Owning ward",
                                  help_text="empty: the zone's own ward")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.label_zones()

    @classmethod
    def initial_of(cls, par: ParLevel) -> dict[str, Any]:
        return {"zone": par.zone, "category": par.category, "target_count": par.target_count,
                "critical_count": par.critical_count, "ward": par.ward}


def errors_onto(form: forms.Form, error: ValidationError) -> None:
    """A service's ValidationError shown on the form's fields (or above it)."""
    if hasattr(error, "error_dict"):
        for field, messages in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages)
    else:
        form.add_error(None, error.messages)
