"""The registry pages' forms: they collect and check input; the registry package and finding.py decide."""

from __future__ import annotations

from typing import Any

from django import forms

from floorplans.models import Zone
from tracking.access import floor_ids_visible
from tracking.assets.finding import NEAREST_MAX
from tracking.assets.registry.selectors import AssetFilter, Pm
from tracking.models import Asset

ANY: list[tuple[str, str]] = [("", "any")]
# zones one would not fetch equipment *to*: too big (ward), passing through, or not a place to stand
_NOT_A_ROOM = (Zone.Kind.WARD, Zone.Kind.CORRIDOR, Zone.Kind.STAIRS, Zone.Kind.ELEVATOR, Zone.Kind.EXIT)
MAX_UPLOAD_BYTES = 20 * 1024 * 1024


class AssetFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=100, label="Search",
                        widget=forms.TextInput(attrs={"placeholder": "number, serial, make, model, tag",
                                                      "type": "search"}))
    category = forms.ChoiceField(choices=[*ANY, *Asset.Category.choices], required=False)
    status = forms.ChoiceField(choices=[*ANY, *Asset.Status.choices], required=False)
    department = forms.ModelChoiceField(queryset=Zone.objects.filter(kind=Zone.Kind.WARD).order_by("name"),
                                        required=False, empty_label="any")
    pm = forms.ChoiceField(choices=[*ANY, *Pm.CHOICES], required=False, label="PM")

    def spec(self) -> AssetFilter:
        """The filter of a valid form (an invalid one filters nothing: the page shows its errors)."""
        if not self.is_valid():
            return AssetFilter()
        data = self.cleaned_data
        department = data.get("department")
        return AssetFilter(q=data.get("q") or "", category=data.get("category") or "", status=data.get("status") or "",
                           department=department.pk if department else None, pm=data.get("pm") or "")


class ImportUploadForm(forms.Form):
    file = forms.FileField(label="Inventory CSV", widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}))

    def clean_file(self) -> Any:
        file = self.cleaned_data["file"]
        if file.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(f"The file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB: split it.")
        return file


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=Asset.Status.choices)


def _rooms(user: Any) -> list[tuple[str, list[tuple[int, str]]]]:
    """Zones to measure from, grouped by floor, on the floors the user may watch."""
    zones = Zone.objects.exclude(kind__in=_NOT_A_ROOM).select_related("floor__building").order_by(
        "floor__building__name", "floor__level", "name")
    visible = floor_ids_visible(user=user)
    if visible is not None:
        zones = zones.filter(floor_id__in=sorted(visible))
    groups: dict[str, list[tuple[int, str]]] = {}
    for zone in zones:
        groups.setdefault(str(zone.floor), []).append((zone.pk, f"{zone.name} ({zone.code})"))
    return list(groups.items())


class NearestForm(forms.Form):
    category = forms.ChoiceField(choices=Asset.Category.choices, label="I need")
    zone = forms.TypedChoiceField(coerce=int, label="near")
    limit = forms.IntegerField(min_value=1, max_value=NEAREST_MAX, initial=10, required=False, label="show")

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["zone"].choices = [("", "choose a room"), *_rooms(user)]  # type: ignore[attr-defined]

    def chosen_zone(self) -> Zone:
        return Zone.objects.select_related("floor").get(pk=self.cleaned_data["zone"])
