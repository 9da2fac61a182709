"""Per-key request counting in PostgreSQL (api.models.RateWindow): a fixed window per minute, shared by every web
process. One statement per request, which also deletes the bucket's older windows (a data-modifying CTE)."""

from datetime import datetime

from django.db import connection
from django.utils import timezone

from api.models import RateWindow


def rate_hit(*, bucket: str, now: datetime | None = None) -> tuple[int, int]:
    """Count one request of ``bucket`` in the current minute: (the window's count so far, seconds until it ends)."""
    now = now or timezone.now()
    window = now.replace(second=0, microsecond=0)
    table = RateWindow._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH pruned AS (DELETE FROM {table} WHERE bucket = %s AND window_start < %s)"  # noqa: S608 (our table)
            f" INSERT INTO {table} (bucket, window_start, count) VALUES (%s, %s, 1)"
            f" ON CONFLICT (bucket, window_start) DO UPDATE SET count = {table}.count + 1 RETURNING count",
            [bucket, window, bucket, window],
        )
        count = cursor.fetchone()[0]
    retry_after = max(1, 60 - now.second)
    return count, retry_after
