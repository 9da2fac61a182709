"""The tickets list's filters and sorts (django-filter), shared by the page and tests. Build it through
``service.selectors.ticket_list_filter``: its ``.qs`` is scoped to what the user may see (``tickets_scoped``,
applied after the filters so that they reach the index each branch of the scope walks).

Defaults (no parameter given): open tickets (not resolved or closed); a rep's own (``assignee=me``), a manager's
everyone's (``assignee=any``); most urgent due date first. Every choice is validated: a bad value is a form error
shown next to its field, and the list falls back to nothing filtered by it (never a 500).
"""

from datetime import datetime

import django_filters
from django import forms
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce, Now

from service.models import Ticket

OPEN = "open"
ANY = "any"
ME = "me"
NOBODY = "none"
STATUS_CHOICES = [(OPEN, "Open (not resolved or closed)"), (ANY, "Any status"), *Ticket.Status.choices]
# Each sort ends with ``id`` (a total order) and walks an index on (…, resolution_due_at, id) or (…, created_at).
SORTS = {
    "due": ("resolution_due_at", "id"),
    "-due": (F("resolution_due_at").desc(), F("id").desc()),
    "created": ("created_at", "id"),
    "-created": (F("created_at").desc(), F("id").desc()),
}
SORT_CHOICES = [("due", "Due first"), ("-due", "Due last"), ("-created", "Newest"), ("created", "Oldest")]


def breached_q(now: datetime | None = None) -> Q:
    """Open tickets past a due date still running: resolution due, or first response due without a response — as of
    when the clock stopped for a paused ticket (``service.sla``)."""
    reference = Coalesce(F("paused_at"), Value(now) if now else Now())
    return Q(status__in=Ticket.OPEN_STATUSES) & (
        Q(resolution_due_at__lt=reference) | Q(first_responded_at__isnull=True, first_response_due_at__lt=reference)
    )


class TicketFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=STATUS_CHOICES, method="filter_status", label="Status",
                                         empty_label=None)
    priority = django_filters.ChoiceFilter(choices=Ticket.Priority.choices, label="Priority",
                                           empty_label="Any priority")
    assignee = django_filters.ChoiceFilter(choices=(), method="filter_assignee", label="Assignee", empty_label=None)
    customer = django_filters.NumberFilter(field_name="customer_id", label="Customer", widget=forms.HiddenInput,
                                           min_value=1, max_value=2**63 - 1)
    partner = django_filters.NumberFilter(field_name="customer__partner_id", label="Partner",
                                          widget=forms.HiddenInput, min_value=1, max_value=2**63 - 1)
    breached = django_filters.BooleanFilter(method="filter_breached", label="Past a due time only",
                                            widget=forms.CheckboxInput)
    sort = django_filters.ChoiceFilter(choices=SORT_CHOICES, method="filter_sort", label="Sort", empty_label=None)

    class Meta:
        model = Ticket
        fields = ["status", "priority", "assignee", "breached", "sort", "customer", "partner"]

    def __init__(self, data=None, queryset=None, *, user, sees_all: bool, scope, assignees=(), **kwargs):
        """``user``: whose list; ``sees_all``: a manager's (everyone's tickets by default); ``scope``: narrows the
        filtered queryset to what the user may see (``service.selectors.tickets_scoped``); ``assignees``: (username,
        first, last) a manager may pick."""
        data = data.copy() if data is not None else {}
        data.setdefault("status", OPEN)
        data.setdefault("assignee", ANY if sees_all else ME)
        data.setdefault("sort", "due")
        super().__init__(data, queryset=queryset, **kwargs)
        self.user = user
        self.scope = scope
        choices = [(ME, "Me"), (ANY, "Anyone"), (NOBODY, "Nobody")]
        choices += [(username, f"{first} {last}".strip() or username) for username, first, last in assignees]
        self.filters["assignee"].extra["choices"] = choices
        self.form.fields["assignee"].choices = choices
        self.default_assignee = ANY if sees_all else ME

    @property
    def is_filtered(self) -> bool:
        """Whether the list is narrowed beyond its defaults."""
        cleaned = getattr(self.form, "cleaned_data", {})
        return bool(cleaned.get("priority") or cleaned.get("customer") or cleaned.get("partner")
                    or cleaned.get("breached") or cleaned.get("status") not in (None, "", OPEN))

    def summary(self) -> str:
        """What the list shows, in a few words ("Open · Me"): the status and assignee in effect (defaults included)."""
        cleaned = getattr(self.form, "cleaned_data", {})
        status = cleaned.get("status") or OPEN
        assignee = cleaned.get("assignee") or self.default_assignee
        status_label = "Open" if status == OPEN else dict(STATUS_CHOICES).get(status, status)
        assignee_label = dict(self.form.fields["assignee"].choices).get(assignee, assignee)
        return f"{status_label} · {assignee_label}"

    def filter_queryset(self, queryset):
        """As django-filter's; a status, assignee or sort that was not valid (its error is shown) is applied as its
        default, so a bad value never widens the list."""
        queryset = super().filter_queryset(queryset)
        cleaned = self.form.cleaned_data
        if "status" not in cleaned:
            queryset = self.filter_status(queryset, "status", OPEN)
        if "assignee" not in cleaned:
            queryset = self.filter_assignee(queryset, "assignee", self.default_assignee)
        if not cleaned.get("sort"):
            queryset = queryset.order_by(*SORTS["due"])
        if (cleaned.get("assignee") or self.default_assignee) == ME:
            # The user's own tickets are theirs to see by the visibility rule itself: no scope (its union made a rep's
            # "breached" list 72 ms at 500k tickets; alone it is an index range on the assignee's open tickets, 0.2).
            return queryset
        return self.scope(queryset)

    def filter_status(self, queryset, name, value):
        if value == ANY:
            return queryset
        if value == OPEN or not value:
            return queryset.filter(status__in=Ticket.OPEN_STATUSES)
        return queryset.filter(status=value)

    def filter_assignee(self, queryset, name, value):
        if value in ("", ANY, None):
            return queryset
        if value == ME:
            return queryset.filter(assignee=self.user)
        if value == NOBODY:
            return queryset.filter(assignee__isnull=True)
        return queryset.filter(assignee__username=value)

    def filter_breached(self, queryset, name, value):
        return queryset.filter(breached_q()) if value else queryset

    def filter_sort(self, queryset, name, value):
        return queryset.order_by(*SORTS.get(value, SORTS["due"]))
