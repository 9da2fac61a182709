"""The customer list's filters and sorts (django-filter), shared by the HTML list and tests.

Build it through ``leads.customer_selectors.customer_list_filter`` so the visibility rule is always applied first.
"""

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.db.models import F, Q, Value
from django.db.models.functions import Concat, Lower
from django.utils import timezone

from leads.models import Customer, CustomerSegment
from partners import search
from partners.models import Partner

# ``sort`` → the order; each ends with ``id`` so the order is total (paging never repeats or skips a row). By due
# date, most urgent first: customers without a due date (no segment and no default) last; "-due" is the exact reverse.
ORDERS = {
    "name": ("name", "id"),
    "-name": ("-name", "-id"),
    "due": (F("engagement_due_at").asc(nulls_last=True), "id"),
    "-due": (F("engagement_due_at").desc(nulls_first=True), "-id"),
}
SORT_CHOICES = [("name", "Name"), ("due", "Due date (most urgent first)"), ("-due", "Due date (latest first)"),
                ("-name", "Name (Z–A)")]
DEFAULT_SORT = "name"
PARTNER_MATCHES = 500  # the partner filter's search narrows to at most this many partners
REP_DEFAULT_SORT = "due"  # a rep's list: most urgent first (as their partner list)


class CustomerFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="filter_search", label="Search",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Name or company"}),
    )
    # The segments' choices are set per request from one query (see __init__), which also validates ``?segment=``.
    segment = django_filters.ChoiceFilter(field_name="segment_id", label="Segment", choices=(),
                                          empty_label="Any segment")
    partner = django_filters.CharFilter(
        method="filter_partner", label="Partner",
        widget=forms.TextInput(attrs={"placeholder": "Partner code or name", "autocomplete": "off"}),
    )
    # Managers only: a username or a full name (``?assigned_to=rep1``), as on the partner list.
    assigned_to = django_filters.CharFilter(
        method="filter_assigned_to", label="Assigned to",
        widget=forms.TextInput(attrs={"placeholder": "Anyone (username or name)", "autocomplete": "off"}),
    )
    overdue = django_filters.BooleanFilter(method="filter_overdue", label="Overdue only", widget=forms.CheckboxInput)
    sort = django_filters.ChoiceFilter(method="filter_sort", label="Sort by", choices=SORT_CHOICES, empty_label=None)

    class Meta:
        model = Customer
        fields = ["q", "segment", "partner", "assigned_to", "overdue"]

    def __init__(self, data=None, queryset=None, *, user, sees_all: bool, **kwargs):
        """``queryset``: what ``user`` may see already (``customers_visible_to``); ``sees_all``: a manager's list,
        with the "Assigned to" filter and sorted by name unless told otherwise (a rep's: most urgent first)."""
        super().__init__(data, queryset=queryset, **kwargs)
        self.user = user
        self.filters["segment"].extra["choices"] = [
            (segment.pk, segment.name) for segment in CustomerSegment.objects.order_by("name")
        ]
        if not sees_all:
            del self.filters["assigned_to"]
        self.default_sort = DEFAULT_SORT if sees_all else REP_DEFAULT_SORT
        self.filters["sort"].extra["initial"] = self.default_sort

    @property
    def is_filtered(self) -> bool:
        """Whether any filter narrows the list (sorting does not)."""
        return any(value not in (None, "", False) for name, value in self.form.cleaned_data.items() if name != "sort")

    def filter_queryset(self, queryset):
        """django-filter's, then the order: the ``sort`` asked for, or the user's default (always ending with id)."""
        cleaned = self.form.cleaned_data
        for name, value in cleaned.items():
            if name != "sort":
                queryset = self.filters[name].filter(queryset, value)
        return queryset.order_by(*ORDERS.get(cleaned.get("sort") or self.default_sort, ORDERS[self.default_sort]))

    def filter_sort(self, queryset, name, value):
        return queryset  # applied last, in filter_queryset

    def filter_search(self, queryset, name, value):
        """Name or company containing ``value``, any case (blank: no filter)."""
        value = " ".join(value.split())
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(company__icontains=value))

    def filter_partner(self, queryset, name, value):
        """The customers brought by the partner with this code, else by the partners whose name, code or contacts
        contain ``value`` (the partner list's search document and its trigram index; at most ``PARTNER_MATCHES``).

        The partners are looked up first (one or two indexed queries), then the customers by ``partner_id``: one
        condition on one indexed column. A code-or-search condition inside the customer query was an OR PostgreSQL
        could only check row by row (1.4 s over 300,000 customers)."""
        value = " ".join(value.split())
        if not value:
            return queryset
        ids = list(Partner.objects.filter(code__in={value, value.upper()}).values_list("pk", flat=True)[:1])
        term = search.search_term(value)
        if not ids and term:
            ids = list(
                Partner.objects.filter(search_document__contains=Lower(Value(term)))
                .values_list("pk", flat=True)[:PARTNER_MATCHES]
            )
        return queryset.filter(partner_id__in=ids)

    def filter_assigned_to(self, queryset, name, value):
        """Assigned to the user with this username or this full name (any case). The users are looked up first (one
        query on the small user table), so the customers' condition is ``assigned_to_id IN (ids)``, which PostgreSQL
        estimates right and serves from the assignee index (as a subquery it walked the name index instead: 0.3 s)."""
        value = " ".join(value.split())
        if not value:
            return queryset
        ids = list(
            get_user_model().objects.annotate(full_name=Concat("first_name", Value(" "), "last_name"))
            .filter(Q(username=value) | Q(full_name__iexact=value)).values_list("pk", flat=True)[:PARTNER_MATCHES]
        )
        return queryset.filter(assigned_to_id__in=ids)

    def filter_overdue(self, queryset, name, value):
        """Customers whose engagement due date has passed (uses the engagement_due_at indexes)."""
        if not value:
            return queryset
        return queryset.filter(engagement_due_at__lt=timezone.now())
