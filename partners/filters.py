"""The partner list's filters and sorts (django-filter), shared by the HTML list, exports and tests.

Build it through ``partners.selectors.partner_list_filter`` so the visibility rule is always applied first.
"""

from datetime import datetime, time

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.html import format_html, format_html_join

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


class DatalistTextInput(forms.TextInput):
    """A text input with a ``<datalist>`` of suggestions (browsers filter it as one types).

    ``options`` are (value, label) pairs, joined with ``format_html_join``: hundreds of options cost about a
    millisecond, where a ``<select>`` rendered through Django's template-based widget renderer costs tens.
    """

    def __init__(self, attrs=None, options=()):
        super().__init__(attrs)
        self.options = options

    def render(self, name, value, attrs=None, renderer=None):
        list_id = f"{(attrs or {}).get('id') or name}-options"
        html = super().render(name, value, {**(attrs or {}), "list": list_id}, renderer)
        options = format_html_join("", '<option value="{}">{}</option>', self.options)
        return html + format_html('<datalist id="{}">{}</datalist>', list_id, options)


class PartnerFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="filter_search",
        label="Search",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Name, code, phone or email"}),
    )
    # The tiers' choices are set per request from one query (see __init__), which also validates ``?tier=``.
    tier = django_filters.ChoiceFilter(field_name="tier_id", label="Tier", choices=(), empty_label="Any tier")
    status = django_filters.ChoiceFilter(choices=Partner.Status.choices, label="State", empty_label="Any state")
    # Managers only: a username (``?assigned_to=<username>``), typed or picked from the suggestions.
    assigned_to = django_filters.CharFilter(
        method="filter_assigned_to",
        label="Assigned to",
        widget=DatalistTextInput(attrs={"placeholder": "Anyone (type a name)", "autocomplete": "off"}),
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

    def __init__(self, data=None, queryset=None, *, assignee_options=None, **kwargs):
        """``assignee_options``: (username, full name or "") pairs for a manager's "Assigned to" filter; None hides
        the filter (reps). Build it through ``partners.selectors.partner_list_filter``, which passes them."""
        super().__init__(data, queryset=queryset, **kwargs)
        self.filters["tier"].extra["choices"] = [(tier.pk, tier.name) for tier in Tier.objects.order_by("rank")]
        self.assignee_options = []  # (username, full name or username)
        if assignee_options is not None:
            self.assignee_options = [(username, name or username) for username, name in assignee_options]
            self.filters["assigned_to"].extra["widget"] = DatalistTextInput(
                attrs=self.filters["assigned_to"].extra["widget"].attrs, options=self.assignee_options
            )
        else:
            del self.filters["assigned_to"]

    def filter_queryset(self, queryset):
        """As django-filter's, but the search goes last: its UNION's branches then start from the result of all the
        other conditions (visibility, tier, state…), see ``filter_search``."""
        cleaned = self.form.cleaned_data
        for name in sorted(cleaned, key=lambda name: name == "q"):
            queryset = self.filters[name].filter(queryset, cleaned[name])
        return queryset

    def filter_search(self, queryset, name, value):
        """Name or code (contains), or any contact point's value (phone, email…) containing ``value``.

        A UNION of three lookups rather than an OR, which would make PostgreSQL test every partner. Each branch
        starts from ``queryset`` (what the user may see, already filtered), so PostgreSQL picks per branch: a rep's
        few hundred partners are tested one by one (milliseconds), the whole table goes through the trigram GIN
        indexes of partners/migrations/0004. When nothing restricts ``queryset`` (a manager's unfiltered list), the
        contact branch reads contact points alone, without a join back to every partner.
        """
        value = value.strip()
        if not value:
            return queryset
        base = queryset.order_by().values("pk")
        if queryset.query.has_filters():
            contacts = base.filter(Exists(ContactPoint.objects.filter(partner=OuterRef("pk"), value__icontains=value)))
        else:
            contacts = ContactPoint.objects.filter(value__icontains=value).order_by().values("partner_id")
        matches = base.filter(name__icontains=value).union(base.filter(code__icontains=value), contacts)
        return queryset.filter(pk__in=matches)

    def filter_assigned_to(self, queryset, name, value):
        """Partners assigned to the user with this username (any user, also one no longer active), or to the
        assignable users with this full name as the suggestions show it (any case)."""
        value = value.strip()
        if not value:
            return queryset
        usernames = {value}
        usernames.update(username for username, label in self.assignee_options if label.casefold() == value.casefold())
        return queryset.filter(assigned_to__username__in=sorted(usernames))

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
