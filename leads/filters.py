"""The leads list's filters (django-filter): stage, partner (picked by id, or searched by name/code), assigned to,
created period (a preset or from/to dates). Sorting is fixed: newest first.

Build it through ``leads.selectors.lead_list_filter`` and page it with ``lead_list_page``, which applies the visibility
rule over the filtered queryset (never use ``.qs`` unscoped). Every filter narrows
on an indexed column of Lead (see leads/models.py): (stage, created_at), (partner, created_at),
(assigned_to, created_at), created_at; the newest-first order walks created_at.
"""

from datetime import date, datetime, time, timedelta

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q, Value
from django.db.models.functions import Concat, Lower
from django.utils import timezone

from leads.models import Lead
from partners import search
from partners.models import Partner

OPEN = "open"
STAGE_CHOICES = [(OPEN, "Open (new, contacted, qualified)"), *Lead.Stage.choices]
PERIODS = {
    "this_month": "This month",
    "last_month": "Last month",
    "this_quarter": "This quarter",
    "last_quarter": "Last quarter",
    "this_year": "This year",
    "last_year": "Last year",
}
# Dates outside these years are typing mistakes (and 0001-01-01 in a zone east of UTC is no datetime at all).
FIRST_YEAR, LAST_YEAR = 1970, 2999
MAX_ID = 2**63 - 1
MAX_NAMESAKES = 20  # users sharing a typed full name that the "Assigned to" filter takes


def period_range(preset: str, today: date) -> tuple[date, date]:
    """``(first day, day after the last)`` of a preset period containing (or just before) ``today``."""
    month_start = today.replace(day=1)
    quarter_start = today.replace(month=3 * ((today.month - 1) // 3) + 1, day=1)
    if preset == "this_month":
        return month_start, _add_months(month_start, 1)
    if preset == "last_month":
        return _add_months(month_start, -1), month_start
    if preset == "this_quarter":
        return quarter_start, _add_months(quarter_start, 3)
    if preset == "last_quarter":
        return _add_months(quarter_start, -3), quarter_start
    if preset == "this_year":
        return date(today.year, 1, 1), date(today.year + 1, 1, 1)
    if preset == "last_year":
        return date(today.year - 1, 1, 1), date(today.year, 1, 1)
    raise ValueError(preset)


def _add_months(first_day: date, months: int) -> date:
    index = first_day.year * 12 + first_day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _start_of(day: date) -> datetime:
    """Midnight starting ``day`` in the current time zone (the user's, set by notifications' middleware)."""
    return timezone.make_aware(datetime.combine(day, time.min))


class LeadFilterForm(forms.Form):
    """Checks the dates: sane years, and "to" not before "from" (each error names its field)."""

    def clean(self):
        cleaned = super().clean()
        for name in ("created_from", "created_to"):
            day = cleaned.get(name)
            if day and not FIRST_YEAR <= day.year <= LAST_YEAR:
                self.add_error(name, f"Pick a date between {FIRST_YEAR} and {LAST_YEAR}.")
        start, end = cleaned.get("created_from"), cleaned.get("created_to")
        if start and end and end < start:
            self.add_error("created_to", "“Created to” is before “Created from”.")
        return cleaned


class IdFilter(django_filters.NumberFilter):
    """A row id: a whole number from 1 (the NumberFilter's decimal field would take "1.5")."""

    field_class = forms.IntegerField


class LeadFilter(django_filters.FilterSet):
    stage = django_filters.ChoiceFilter(choices=STAGE_CHOICES, method="filter_stage", label="Stage",
                                        empty_label="Any stage")
    # Picked: the partner page's "All leads" and a row's partner link set ``?partner=<id>`` (the view shows its name).
    partner = IdFilter(field_name="partner_id", label="Partner", widget=forms.HiddenInput,
                       min_value=1, max_value=MAX_ID)
    partner_q = django_filters.CharFilter(
        method="filter_partner_search", label="Partner",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Partner name or code"}),
    )
    assigned_to = django_filters.CharFilter(
        method="filter_assigned_to", label="Assigned to",
        widget=forms.TextInput(attrs={"placeholder": "Anyone (type a name)", "autocomplete": "off"}),
    )
    mine = django_filters.BooleanFilter(method="filter_mine", label="Assigned to me", widget=forms.CheckboxInput)
    period = django_filters.ChoiceFilter(choices=list(PERIODS.items()), method="filter_period", label="Created",
                                         empty_label="Any time")
    created_from = django_filters.DateFilter(method="filter_created_from", label="Created from",
                                             widget=forms.DateInput(attrs={"type": "date"}))
    created_to = django_filters.DateFilter(method="filter_created_to", label="Created to",
                                           widget=forms.DateInput(attrs={"type": "date"}))

    class Meta:
        model = Lead
        fields = ["stage", "partner", "partner_q", "assigned_to", "mine", "period", "created_from", "created_to"]
        form = LeadFilterForm

    def __init__(self, data=None, queryset=None, *, user, sees_all, **kwargs):
        """``user``: whose list it is (``queryset`` is already what they may see); ``sees_all``: a manager's list, whose
        "Assigned to" field offers suggestions (partners:assignees). Build it through
        ``leads.selectors.lead_list_filter``."""
        super().__init__(data, queryset=queryset, **kwargs)
        self.user = user
        self.sees_all = sees_all
        if sees_all:
            self.form.fields["assigned_to"].widget.attrs["list"] = "assignee-options"

    @property
    def is_filtered(self) -> bool:
        """Whether any filter narrows the list."""
        return any(value not in (None, "", False) for value in self.form.cleaned_data.values())

    def filter_stage(self, queryset, name, value):
        if value == OPEN:
            return queryset.filter(stage__in=Lead.OPEN_STAGES)
        return queryset.filter(stage=value) if value else queryset

    def filter_partner_search(self, queryset, name, value):
        """Leads of the partners whose name, code or contact contains ``value`` (the partner search document and its
        trigram index, as the partner list's search). Any partner: the list stays within what the user may see."""
        term = search.search_term(value)
        if not term:
            return queryset
        matching = Partner.objects.filter(search_document__contains=Lower(Value(term))).values("pk")
        return queryset.filter(partner_id__in=matching)

    def filter_assigned_to(self, queryset, name, value):
        """Leads assigned to the user with this username or this full name (any case), as the partner list's.

        The users' ids are read first (one query) and given as values: with a subquery PostgreSQL cannot know that it
        stands for one rep's ~2,000 leads of a million, and walked the newest-first index through 43,000 leads
        (400 ms); with the id it walks the (assigned_to, created_at) index and stops after one page (1 ms)."""
        value = " ".join(value.split())
        if not value:
            return queryset
        ids = list(
            get_user_model().objects.annotate(full_name=Concat("first_name", Value(" "), "last_name"))
            .filter(Q(username=value) | Q(full_name__iexact=value)).values_list("pk", flat=True)[:MAX_NAMESAKES]
        )
        return queryset.filter(assigned_to_id__in=ids)

    def filter_mine(self, queryset, name, value):
        return queryset.filter(assigned_to=self.user) if value else queryset

    def filter_period(self, queryset, name, value):
        if not value:
            return queryset
        start, end = period_range(value, timezone.localdate())
        return queryset.filter(created_at__gte=_start_of(start), created_at__lt=_start_of(end))

    def filter_created_from(self, queryset, name, value):
        return queryset.filter(created_at__gte=_start_of(value)) if value else queryset

    def filter_created_to(self, queryset, name, value):
        """Up to the end of ``value`` (the whole day counts)."""
        return queryset.filter(created_at__lt=_start_of(value + timedelta(days=1))) if value else queryset
