"""Reads of webhooks. Who sees which endpoint is decided here: a manager sees the endpoints they made, an admin
(superuser) every one, a rep none . Everything else is a 404."""

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from partners.selectors import user_sees_all_partners
from prm.paging import Page, page_number
from webhooks.models import Delivery, Endpoint

LOG_PAGE_SIZE = 25


def may_manage(user: AbstractBaseUser) -> bool:
    """Managers and admins manage webhooks; reps do not."""
    return bool(user.is_authenticated and user.is_active and user_sees_all_partners(user))


def endpoint_visible_to(user: AbstractBaseUser) -> QuerySet[Endpoint]:
    """The endpoints ``user`` may see and change (the manager check: one query per request, kept on the user)."""
    if not may_manage(user):
        return Endpoint.objects.none()
    if user.is_superuser:
        return Endpoint.objects.all()
    return Endpoint.objects.filter(owner=user)


def endpoint_get_for_user(*, user: AbstractBaseUser, pk: int) -> Endpoint:
    """The endpoint ``pk`` if ``user`` may see it (with its owner), else Http404."""
    return get_object_or_404(endpoint_visible_to(user).select_related("owner"), pk=pk)


def endpoints_of(*, user: AbstractBaseUser) -> list[Endpoint]:
    """The endpoints ``user`` may see, newest first, with their owners (one query)."""
    return list(endpoint_visible_to(user).select_related("owner").order_by("-created_at", "-id"))


def delivery_page(*, endpoint: Endpoint, page: object = 1, per_page: int = LOG_PAGE_SIZE) -> Page:
    """The endpoint's delivery log, newest first, one page (one query, on webhook_delivery_log_idx; the payload is
    left out: the log shows outcomes)."""
    number = page_number(page)
    rows = list(
        Delivery.objects.filter(endpoint_id=endpoint.pk).defer("payload").order_by("-id")
        [(number - 1) * per_page:number * per_page + 1]
    )
    return Page(rows=rows[:per_page], number=number, has_next=len(rows) > per_page)


def delivery_get_for_user(*, user: AbstractBaseUser, endpoint_pk: int, pk: int) -> Delivery:
    """The delivery ``pk`` of endpoint ``endpoint_pk`` if ``user`` may see that endpoint (with it), else Http404."""
    return get_object_or_404(
        Delivery.objects.select_related("endpoint").filter(endpoint__in=endpoint_visible_to(user)),
        pk=pk, endpoint_id=endpoint_pk,
    )
