"""Reads of notifications, always scoped to their recipient. Query budgets are in each docstring (asserted in
tests/notifications)."""

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.shortcuts import get_object_or_404

from notifications.models import Notification

User = AbstractBaseUser
UNREAD_CAP = 99  # the bell shows "99+" above this: counting further costs more and says nothing more
PAGE_SIZE = 25
MAX_PAGE = 10_000  # a bigger ?page= is treated as this one
LIST_FIELDS = ("id", "event", "title", "body", "link", "created_at", "read_at")


def notifications_for(user: User) -> QuerySet[Notification]:
    """The notifications of ``user`` (nobody else's), to filter further."""
    if not user.is_authenticated:
        return Notification.objects.none()
    return Notification.objects.filter(recipient_id=user.pk)


def notification_get_for_user(user: User, pk: int) -> Notification:
    """The notification ``pk`` if it is ``user``'s, else Http404 (also when it exists for someone else). One query."""
    return get_object_or_404(notifications_for(user).only(*LIST_FIELDS, "recipient_id"), pk=pk)


@dataclass(frozen=True)
class UnreadCount:
    count: int  # exact up to UNREAD_CAP, else UNREAD_CAP + 1
    label: str  # "" for none, "3", "99+"


def unread_count(*, user: User, cap: int = UNREAD_CAP) -> UnreadCount:
    """The bell's number: one query that stops counting at ``cap`` + 1 rows (the partial index of unread rows)."""
    count = notifications_for(user).filter(read_at__isnull=True)[: cap + 1].count()
    label = "" if count == 0 else (f"{cap}+" if count > cap else str(count))
    return UnreadCount(count=count, label=label)


@dataclass
class NotificationPage:
    rows: list[Notification]
    number: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1


def notification_list_page(*, user: User, page: object = 1, per_page: int = PAGE_SIZE) -> NotificationPage:
    """One page of ``user``'s notifications, unread first, then newest first. One query whatever the page (it reads
    ``per_page`` + 1 rows to know whether there is a next page; no count)."""
    try:
        number = min(max(int(page), 1), MAX_PAGE)
    except (TypeError, ValueError):
        number = 1
    offset = (number - 1) * per_page
    queryset = (
        notifications_for(user)
        .only(*LIST_FIELDS)
        .annotate(is_read=Case(When(read_at__isnull=True, then=Value(0)), default=Value(1), output_field=IntegerField()))
        .order_by("is_read", "-created_at", "-id")
    )
    rows = list(queryset[offset: offset + per_page + 1])
    return NotificationPage(rows=rows[:per_page], number=number, has_next=len(rows) > per_page)
