"""Liveness for load balancers and the run command: is the database reachable?"""

from django.db import connection
from django.http import HttpRequest, JsonResponse


def health(request: HttpRequest) -> JsonResponse:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT postgis_lib_version()")
            (postgis,) = cursor.fetchone() or ("?",)
    except Exception as exc:  # noqa: BLE001 - any database failure means "not healthy", reported as such
        return JsonResponse({"status": "error", "database": str(exc)}, status=503)
    return JsonResponse({"status": "ok", "postgis": postgis})
