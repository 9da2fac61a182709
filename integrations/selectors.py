"""Reads of the CRM sync. Managers and admins see every connection (they are the organisation's, not a person's);
reps and everyone else see none: a 404 on every page and verb. Admins (superusers) change them."""

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from integrations.models import Connection, FieldMapping, SyncLog, SyncRun
from partners.selectors import user_sees_all_partners
from prm.paging import Page, page_number

LOG_PAGE_SIZE = 25
RECENT_RUNS = 10


def may_view(user: AbstractBaseUser) -> bool:
    return bool(user.is_authenticated and user.is_active and user_sees_all_partners(user))


def may_edit(user: AbstractBaseUser) -> bool:
    return bool(may_view(user) and user.is_superuser)


def connection_visible_to(user: AbstractBaseUser) -> QuerySet[Connection]:
    return Connection.objects.all() if may_view(user) else Connection.objects.none()


def connection_get_for_user(*, user: AbstractBaseUser, pk: int) -> Connection:
    """The connection ``pk`` if ``user`` may see it, else Http404 (the manager check is one query, kept on the user)."""
    return get_object_or_404(connection_visible_to(user).defer("credentials_encrypted"), pk=pk)


def connections_of(*, user: AbstractBaseUser) -> list[Connection]:
    """Every connection ``user`` may see, by name (one query; credentials not read)."""
    return list(connection_visible_to(user).defer("credentials_encrypted").order_by("name"))


def mapping_get_for_user(*, user: AbstractBaseUser, connection_pk: int, pk: int) -> FieldMapping:
    """The mapping ``pk`` of connection ``connection_pk`` if ``user`` may see the connection, else Http404."""
    return get_object_or_404(FieldMapping.objects.filter(connection__in=connection_visible_to(user))
                             .select_related("connection"), pk=pk, connection_id=connection_pk)


def connection_page(*, connection: Connection, page: object = 1) -> dict:
    """What the connection's page shows: its mappings, its latest runs and one page of its sync log (3 queries)."""
    number = page_number(page)
    log = list(SyncLog.objects.filter(connection=connection).order_by("-at", "-id")
               [(number - 1) * LOG_PAGE_SIZE:number * LOG_PAGE_SIZE + 1])
    return {
        "mappings": list(connection.mappings.order_by("object", "local_field")),
        "runs": list(SyncRun.objects.filter(connection=connection).order_by("-started_at", "-id")[:RECENT_RUNS]),
        "log": Page(rows=log[:LOG_PAGE_SIZE], number=number, has_next=len(log) > LOG_PAGE_SIZE),
    }
