"""The partner list's filters and sorts (django-filter), shared by the HTML list, exports and tests.

Build it through ``partners.selectors.partner_list_filter`` so the visibility rule is always applied first.
"""

from datetime import datetime, time

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone

from partners.models import ContactPoint, Partner, Tier

# Public sort keys (the ``sort`` URL parameter) → model fields. Each sort ends with ``id`` as a tie-breaker, so the
# order is total and matches the (…, id) indexes on Partner (keyset-friendly).
SORTS = {
    "name": "name",
    "tier": "tier__rank",
    "assigned": "assigned_to__username",
    "last_engaged": "last_engaged_at",
    "due": "engagement_due_at",
    "state": "status",
}
DEFAULT_SORT = "name"


class PartnerOrderingFilter(django_filters.OrderingFilter):
    """``sort=<key>`` or ``sort=-<key>``; always finishes with ``id`` in the same direction."""

    def filter(self, qs, value):
        params = [param for param in (value or []) if param] or [DEFAULT_SORT]
        ordering = [self.get_ordering_value(param) for param in params]
        tie_breaker = "-id" if ordering[-1].startswith("-") else "id"
        return qs.order_by(*ordering, tie_breaker)


class PartnerFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="filter_search",
        label="Search",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Name, code, phone or email"}),
    )
    tier = django_filters.ModelChoiceFilter(queryset=Tier.objects.all(), empty_label="Any tier")
    status = django_filters.ChoiceFilter(choices=Partner.Status.choices, label="State", empty_label="Any state")
    assigned_to = django_filters.ModelChoiceFilter(
        queryset=get_user_model().objects.none(), label="Assigned to", empty_label="Anyone"
    )
    overdue = django_filters.BooleanFilter(
        method="filter_overdue", label="Overdue only", widget=forms.CheckboxInput
    )
    not_engaged_since = django_filters.DateFilter(
        method="filter_not_engaged_since",
        label="Not engaged since",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    sort = PartnerOrderingFilter(fields=[(field, key) for key, field in SORTS.items()], label="Sort by")

    class Meta:
        model = Partner
        fields = ["q", "tier", "status", "assigned_to", "overdue", "not_engaged_since"]

    def __init__(self, data=None, queryset=None, *, user, **kwargs):
        super().__init__(data, queryset=queryset, **kwargs)
        from partners.selectors import assignable_users, user_sees_all_partners

        if user_sees_all_partners(user):
            self.filters["assigned_to"].queryset = assignable_users()
        else:
            del self.filters["assigned_to"]

    def filter_search(self, queryset, name, value):
        """Name or code (contains), or any contact point's value (phone, email…) containing ``value``."""
        value = value.strip()
        if not value:
            return queryset
        # A UNION of three index-friendly lookups (trigram GIN indexes on PostgreSQL, partners/migrations/0004)
        # rather than an OR, which would make PostgreSQL scan every partner.
        matches = (
            Partner.objects.filter(name__icontains=value).order_by().values("pk")
            .union(
                Partner.objects.filter(code__icontains=value).order_by().values("pk"),
                ContactPoint.objects.filter(value__icontains=value).order_by().values("partner_id"),
            )
        )
        return queryset.filter(pk__in=matches)

    def filter_overdue(self, queryset, name, value):
        """Partners whose tier's engagement frequency has run out (uses the engagement_due_at index)."""
        if not value:
            return queryset
        return queryset.filter(engagement_due_at__lt=timezone.now())

    def filter_not_engaged_since(self, queryset, name, value):
        """Never engaged, or last engaged before the start of ``value`` (in the current time zone)."""
        if not value:
            return queryset
        since = timezone.make_aware(datetime.combine(value, time.min))
        return queryset.filter(Q(last_engaged_at__isnull=True) | Q(last_engaged_at__lt=since))
