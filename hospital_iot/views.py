"""Operations endpoints: liveness (/health/), readiness with the pipeline (/healthz) and /metrics."""

from __future__ import annotations

import hmac
import time

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from tracking.metrics_text import CONTENT_TYPE, render
from tracking.selectors.metrics import metrics_families
from tracking.selectors.operations import health_report

LOOPBACK = frozenset({"127.0.0.1", "::1"})
PROXY_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_FORWARDED", "HTTP_X_REAL_IP")


def health(request: HttpRequest) -> JsonResponse:
    """Liveness for load balancers and the run command: is the database reachable?"""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT postgis_lib_version()")
            (postgis,) = cursor.fetchone() or ("?",)
    except Exception as exc:  # noqa: BLE001 - any database failure means "not healthy", reported as such
        return JsonResponse({"status": "error", "database": str(exc)}, status=503)
    return JsonResponse({"status": "ok", "postgis": postgis})


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """No login. 200 with status ok (or degraded: no pipeline worker alive); 503 if database or Redis is down."""
    report, up = health_report(now_s=time.time())
    return JsonResponse(report, status=200 if up else 503)


def metrics_allowed(request: HttpRequest) -> bool:
    """A scraper on this machine (loopback, not relayed by a proxy), or one with the bearer token.

    The token is settings.METRICS_TOKEN (env HOSPITAL_IOT_METRICS_TOKEN); without one, only local
    scrapers get in. A request relayed by a reverse proxy on the same machine comes from loopback too,
    so any forwarding header makes it remote.
    """
    token: str = settings.METRICS_TOKEN
    offered = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(offered.encode(), f"Bearer {token}".encode()):
        return True
    relayed = any(header in request.META for header in PROXY_HEADERS)
    return request.META.get("REMOTE_ADDR") in LOOPBACK and not relayed


@never_cache
@require_safe
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus text format 0.0.4: reader health and the pipeline workers' counters and histograms."""
    if not metrics_allowed(request):
        return HttpResponse("metrics: scrape from this machine or send Authorization: Bearer <token>\n",
                            status=403, content_type="text/plain; charset=utf-8")
    return HttpResponse(render(metrics_families(now_s=time.time())), content_type=CONTENT_TYPE)
