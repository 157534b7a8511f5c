"""The alert page: the list, live over ws/alerts/, with acknowledge / resolve / cancel and each timeline.
The page is a shell; static/alerts/alerts.js reads /api/alerts/ and the websocket."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import ensure_csrf_cookie

from alerts.audiences import AUDIENCES
from alerts.models import Alert
from alerts.selectors import CHANGE_PERMISSION, VIEW_PERMISSION, audiences_of


@login_required
@permission_required(VIEW_PERMISSION, raise_exception=True)
@ensure_csrf_cookie
def alert_list(request: HttpRequest) -> HttpResponse:
    return render(request, "alerts/alert_list.html", {
        "severities": Alert.Severity.choices,
        "states": Alert.State.choices,
        "audiences": [a for a in AUDIENCES if a in audiences_of(request.user)],
        "can_change": request.user.has_perm(CHANGE_PERMISSION),
    })
