from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest, StreamingHttpResponse
from django.urls import reverse
from django.utils.html import format_html

from hospital_iot.admin_base import ReadOnlyAdmin
from tracking.assets.audit_classify import result_label
from tracking.models import (
    Asset,
    AssetStatusChange,
    AssetVerification,
    Audit,
    AuditItem,
    FloorAccess,
    Tag,
    TrackedObject,
)


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin[Tag]):
    list_display = ["tag_id", "tech", "model", "battery_pct", "active"]
    list_filter = ["tech", "active"]
    search_fields = ["tag_id"]


@admin.register(TrackedObject)
class TrackedObjectAdmin(admin.ModelAdmin[TrackedObject]):
    list_display = ["name", "kind", "tag"]
    list_filter = ["kind"]
    search_fields = ["name", "tag__tag_id"]
    raw_id_fields = ["tag"]


# ---- the asset registry (docs/assets.md): assets, their status history and verifications ----


class AssetStatusChangeInline(admin.TabularInline[AssetStatusChange, Asset]):
    """The status history, read only: written by tracking.assets.status.asset_status_set, never by hand."""

    model = AssetStatusChange
    extra = 0
    can_delete = False
    ordering = ["-at", "-pk"]
    fields = readonly_fields = ("at", "from_status", "to_status", "source", "rule", "zone", "user")

    def has_add_permission(self, request: HttpRequest, obj: Asset | None = None) -> bool:
        return False


class AssetVerificationInline(admin.TabularInline[AssetVerification, Asset]):
    """When the asset was verified in place, read only: written by the audits."""

    model = AssetVerification
    extra = 0
    can_delete = False
    fields = readonly_fields = ("at", "how", "audit", "zone", "user")

    def has_add_permission(self, request: HttpRequest, obj: Asset | None = None) -> bool:
        return False


def _status_action(status: str) -> Callable[[Any, HttpRequest, QuerySet[Asset]], None]:
    """An admin action setting the selected assets' status through asset_status_set (a manual change)."""

    label = Asset.Status(status).label

    @admin.action(permissions=["change"], description=f"Set status: {label}")
    def action(modeladmin: Any, request: HttpRequest, queryset: QuerySet[Asset]) -> None:
        from tracking.assets.status import asset_status_set  # lazy: the status module wires the PAR rules

        changed = sum(
            asset_status_set(asset_id=pk, status=status, source=AssetStatusChange.Source.MANUAL,
                             user=request.user) is not None
            for pk in queryset.order_by("pk").values_list("pk", flat=True)
        )
        modeladmin.message_user(request, f"{changed} asset{'s' if changed != 1 else ''} set to {label}.")

    action.__name__ = f"set_status_{status}"
    return action


@admin.action(permissions=["view"], description="Export the selected assets as CSV")
def assets_export_csv(modeladmin: Any, request: HttpRequest, queryset: QuerySet[Asset]) -> StreamingHttpResponse:
    from tracking.assets.registry import export_lines

    response = StreamingHttpResponse(export_lines(assets=queryset, user=request.user),
                                     content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="assets.csv"'
    return response


@admin.register(Asset)
class AssetAdmin(admin.ModelAdmin[Asset]):
    """Assets are registered here, on /assets/import/ or over the API. The status is read only: it changes
    through the actions (and the pages and rules), so that every change is in the status history."""

    list_display = ["asset_number", "category", "make", "model", "department", "home_zone", "status", "pm_due_on",
                    "tracked_object"]
    list_filter = ["category", "status", "department"]
    search_fields = ["asset_number", "serial_number", "make", "model", "tracked_object__tag__tag_id"]
    raw_id_fields = ["tracked_object", "department", "home_zone"]
    readonly_fields = ["status", "status_changed_at"]
    list_select_related = ["department", "home_zone", "tracked_object"]
    inlines = [AssetStatusChangeInline, AssetVerificationInline]
    actions = [assets_export_csv, *(_status_action(status) for status in Asset.Status.values)]


@admin.register(AssetStatusChange)
class AssetStatusChangeAdmin(ReadOnlyAdmin[AssetStatusChange]):
    """Every status change of every asset, read only (utilization is computed from these)."""

    list_display = ["at", "asset", "from_status", "to_status", "source", "rule", "zone", "user"]
    list_filter = ["source", "to_status"]
    search_fields = ["asset__asset_number"]
    date_hierarchy = "at"
    list_select_related = ["asset", "rule", "zone", "user"]


@admin.register(AssetVerification)
class AssetVerificationAdmin(ReadOnlyAdmin[AssetVerification]):
    """When each asset was verified in place, and how, read only (written by the audits)."""

    list_display = ["at", "asset", "how", "audit", "zone", "user"]
    list_filter = ["how"]
    search_fields = ["asset__asset_number"]
    date_hierarchy = "at"
    list_select_related = ["asset", "zone", "user"]


# ---- audits: written by tracking.assets.audits, read here; a running sweep may be cancelled, an audit deleted ----


@admin.action(permissions=["cancel"], description="Cancel the selected running sweeps")
def audits_cancel(modeladmin: Any, request: HttpRequest, queryset: QuerySet[Audit]) -> None:
    from tracking.assets.audits import audit_cancel  # lazy: the services import the readers

    running = queryset.filter(kind=Audit.Kind.HANDHELD, state=Audit.State.RUNNING).order_by("pk")
    cancelled = [audit_cancel(audit_id=pk, user=request.user).pk  # type: ignore[arg-type]
                 for pk in running.values_list("pk", flat=True)]
    skipped = queryset.count() - len(cancelled)
    modeladmin.message_user(request, f"{len(cancelled)} sweep{'s' if len(cancelled) != 1 else ''} cancelled"
                            + (f"; {skipped} not running sweeps left as they were." if skipped else "."))


@admin.register(Audit)
class AuditAdmin(admin.ModelAdmin[Audit]):
    """Audits, read only (the services write them); search finds the audits that listed an asset."""

    list_display = ["started_at", "kind", "state", "place", "department", "started_by", "ended_at", "expected",
                    "found", "missing", "items_link"]
    list_filter = ["state", "kind", ("department", admin.RelatedOnlyFieldListFilter), "started_at"]
    search_fields = ["items__asset__asset_number", "items__asset__tracked_object__name",
                     "items__asset__tracked_object__tag__tag_id", "reader"]
    date_hierarchy = "started_at"
    list_select_related = ["department", "started_by"]
    fields = readonly_fields = ("kind", "state", "place", "department", "zones", "seen_within_h",
                                "missing_after_days", "reader", "started_by", "started_at", "ended_at", "items_link",
                                "summary")
    actions = [audits_cancel]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Audit]:
        return super().get_queryset(request).prefetch_related("zones").annotate(
            item_count=Count("items", distinct=True))

    @admin.display(description="where")
    def place(self, audit: Audit) -> str:
        zones = sorted(zone.name for zone in audit.zones.all())
        return ", ".join(zones) or (audit.department.name if audit.department is not None else "-")

    def _count(self, audit: Audit, result: str) -> int | None:
        return ((audit.summary or {}).get("counts") or {}).get(result)

    @admin.display(description="expected")
    def expected(self, audit: Audit) -> int | None:
        return (audit.summary or {}).get("expected")

    @admin.display(description="found")
    def found(self, audit: Audit) -> int | None:
        return self._count(audit, "found")

    @admin.display(description="missing")
    def missing(self, audit: Audit) -> int | None:
        return self._count(audit, "missing")

    @admin.display(description="items")
    def items_link(self, audit: Audit) -> str:
        count = getattr(audit, "item_count", None)
        if count is None:
            count = AuditItem.objects.filter(audit=audit).count()
        url = reverse("admin:tracking_audititem_changelist")
        return format_html('<a href="{}?audit__id__exact={}">{} item{}</a>', url, audit.pk, count,
                           "" if count == 1 else "s")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Audit | None = None) -> bool:
        return False

    def has_cancel_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("tracking.change_audit")


@admin.register(AuditItem)
class AuditItemAdmin(ReadOnlyAdmin[AuditItem]):
    """What each audit said about each asset, read only. A handheld sweep's not_seen reads "not reached by the
    sweep": its place and time are then the RTLS's last fix, not a read."""

    list_display = ["audit", "asset", "result_text", "seen_zone", "seen_at", "pm_due", "pm_overdue"]
    list_filter = ["result", "audit__kind", ("asset__department", admin.RelatedOnlyFieldListFilter),
                   "audit__started_at", "pm_overdue"]
    search_fields = ["asset__asset_number", "asset__tracked_object__name", "asset__tracked_object__tag__tag_id"]
    list_select_related = ["audit", "asset", "seen_zone"]
    fields = readonly_fields = ("audit", "asset", "result_text", "seen_zone", "seen_at", "pm_due", "pm_overdue")

    @admin.display(description="result", ordering="result")
    def result_text(self, item: AuditItem) -> str:
        return result_label(item.result, sweep=item.audit.kind == Audit.Kind.HANDHELD)


# ---- end of the asset registry ----


@admin.register(FloorAccess)
class FloorAccessAdmin(admin.ModelAdmin[FloorAccess]):
    """Which floors or buildings a group may watch; a group with no rows is not a scope group."""

    list_display = ["group", "building", "floor"]
    list_filter = ["group"]
