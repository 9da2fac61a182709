"""The portal feed's writes: what happened to a partner, recorded once per (partner, source_key), set-based."""

from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.utils import timezone

from portal.models import PortalEvent


@dataclass(frozen=True, slots=True)
class EventItem:
    partner_id: int
    kind: str
    title: str
    source_key: str
    link: str = ""
    actor_id: int | None = None


def portal_events_record(*, items: list[EventItem], at: datetime | None = None) -> int:
    """Record ``items`` (those not recorded yet) in one statement; returns how many were new."""
    if not items:
        return 0
    title_max = PortalEvent._meta.get_field("title").max_length
    link_max = PortalEvent._meta.get_field("link").max_length
    table = connection.ops.quote_name(PortalEvent._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO {table} (partner_id, kind, title, link, actor_id, source_key, at)
                SELECT i.partner_id, i.kind, i.title, i.link, i.actor_id, i.source_key, %(at)s
                FROM unnest(%(partners)s::bigint[], %(kinds)s::text[], %(titles)s::text[], %(links)s::text[],
                            %(actors)s::bigint[], %(keys)s::text[]) AS i(partner_id, kind, title, link, actor_id, source_key)
                ON CONFLICT (partner_id, source_key) DO NOTHING""",  # noqa: S608 (table name from the model)
            {
                "at": at or timezone.now(),
                "partners": [item.partner_id for item in items],
                "kinds": [item.kind for item in items],
                "titles": [item.title[:title_max] for item in items],
                "links": [item.link[:link_max] for item in items],
                "actors": [item.actor_id for item in items],
                "keys": [item.source_key for item in items],
            },
        )
        return cursor.rowcount
