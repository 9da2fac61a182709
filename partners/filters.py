"""The partner list's filters and sorts (django-filter), shared by the HTML list, exports and tests.

Build it through ``partners.selectors.partner_list_filter`` so the visibility rule is always applied first.
"""

from datetime import datetime, time

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.db.models import F, Q, Value
from django.db.models.functions import Concat, Lower
from django.utils import timezone

from partners import search
from partners.models import Partner, Tier

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
REP_DEFAULT_SORT = "due"  # a rep's list: most urgent first
# By due date, most urgent first: partners without one (no tier: never due) last, then the highest tier, then id.
# "-due" is the exact reverse (least urgent first), so both walk the engagement_due_at index (forwards, backwards).
DUE_ORDER = {
    "due": (F("engagement_due_at").asc(nulls_last=True), "tier__rank", "id"),
    "-due": (F("engagement_due_at").desc(nulls_first=True), "-tier__rank", "-id"),
}


class PartnerOrderingFilter(django_filters.OrderingFilter):
    """``sort=<key>`` or ``sort=-<key>``; always finishes with ``id`` in the same direction. ``default`` is the sort
    when none is asked for (``PartnerFilter`` sets it per user)."""

    default = DEFAULT_SORT

    def filter(self, qs, value):
        params = [param for param in (value or []) if param] or [self.default]
        if len(params) == 1 and params[0] in DUE_ORDER:
            return qs.order_by(*DUE_ORDER[params[0]])
        ordering = [self.get_ordering_value(param) for param in params]
        tie_breaker = "-id" if ordering[-1].startswith("-") else "id"
        return qs.order_by(*ordering, tie_breaker)


class PartnerFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="filter_search",
        label="Search",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Name, code, phone or email"}),
    )
    # The tiers' choices are set per request from one query (see __init__), which also validates ``?tier=``.
    tier = django_filters.ChoiceFilter(field_name="tier_id", label="Tier", choices=(), empty_label="Any tier")
    status = django_filters.ChoiceFilter(choices=Partner.Status.choices, label="State", empty_label="Any state")
    # Managers only: a username or full name (``?assigned_to=rep1``), typed or picked from suggestions that the page's
    # script loads from ``partners:assignees`` when the field is first used (hundreds of options are not rendered
    # into every list page).
    assigned_to = django_filters.CharFilter(
        method="filter_assigned_to",
        label="Assigned to",
        widget=forms.TextInput(attrs={
            "placeholder": "Anyone (type a name)", "autocomplete": "off", "list": "assignee-options",
        }),
    )
    overdue = django_filters.BooleanFilter(
        method="filter_overdue", label="Overdue only", widget=forms.CheckboxInput
    )
    not_engaged_since = django_filters.DateFilter(
        method="filter_not_engaged_since",
        label="Not engaged since",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    due_by = django_filters.DateFilter(
        method="filter_due_by",
        label="Due by",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    sort = PartnerOrderingFilter(fields=[(field, key) for key, field in SORTS.items()], label="Sort by")

    class Meta:
        model = Partner
        fields = ["q", "tier", "status", "assigned_to", "overdue", "due_by", "not_engaged_since"]

    def __init__(self, data=None, queryset=None, *, user, sees_all, **kwargs):
        """``user``: whose list it is (``queryset`` is already what they may see); ``sees_all``: a manager's list,
        with the "Assigned to" filter. Build it through ``partners.selectors.partner_list_filter``."""
        super().__init__(data, queryset=queryset, **kwargs)
        self.user = user
        self.filters["tier"].extra["choices"] = [(tier.pk, tier.name) for tier in Tier.objects.order_by("rank")]
        if not sees_all:
            del self.filters["assigned_to"]
            self.filters["sort"].default = REP_DEFAULT_SORT
        self.default_sort = self.filters["sort"].default

    @property
    def is_filtered(self) -> bool:
        """Whether any filter narrows the list (sorting does not)."""
        return any(value not in (None, "", False) for name, value in self.form.cleaned_data.items() if name != "sort")

    def filter_queryset(self, queryset):
        """As django-filter's, but the search goes last, after the conditions its indexes can combine with."""
        cleaned = self.form.cleaned_data
        for name in sorted(cleaned, key=lambda name: name == "q"):
            queryset = self.filters[name].filter(queryset, cleaned[name])
        return queryset

    def filter_search(self, queryset, name, value):
        """Name, code or any contact value (phone, email…) containing ``value``, any case; a phone number typed with
        spaces or dashes matches however it was stored. One ``LIKE`` on the partner's search document
        (partners/search.py), served by its trigram index or checked row by row on a rep's few partners, whichever
        PostgreSQL finds cheaper."""
        term = search.search_term(value)
        if not term:
            return queryset
        return queryset.filter(search_document__contains=Lower(Value(term)))

    def filter_assigned_to(self, queryset, name, value):
        """Partners assigned to the user with this username (any user, also one no longer active) or this full name
        as the suggestions show it (any case)."""
        value = " ".join(value.split())
        if not value:
            return queryset
        named = (
            get_user_model().objects.annotate(full_name=Concat("first_name", Value(" "), "last_name"))
            .filter(full_name__iexact=value).values("pk")
        )
        return queryset.filter(Q(assigned_to__username=value) | Q(assigned_to__in=named))

    def filter_overdue(self, queryset, name, value):
        """Partners whose tier's engagement frequency has run out (uses the engagement_due_at index)."""
        if not value:
            return queryset
        return queryset.filter(engagement_due_at__lt=timezone.now())

    def filter_due_by(self, queryset, name, value):
        """Partners whose engagement falls due before the end of ``value`` (in the current time zone), overdue
        included: Today's "due this week" links here (uses the engagement_due_at index)."""
        if not value:
            return queryset
        end = timezone.make_aware(datetime.combine(value, time.max))
        return queryset.filter(engagement_due_at__lte=end)

    def filter_not_engaged_since(self, queryset, name, value):
        """Never engaged, or last engaged before the start of ``value`` (in the current time zone)."""
        if not value:
            return queryset
        since = timezone.make_aware(datetime.combine(value, time.min))
        return queryset.filter(Q(last_engaged_at__isnull=True) | Q(last_engaged_at__lt=since))
