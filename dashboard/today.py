"""The Today page's content: the partners app's and the activities app's selectors, composed (this app is above both).

Query budget (a rep; a manager adds one, the reps of the filter): 1. whether the user sees all partners (visibility),
2. overdue and due-this-week partner ids with their capped counts, one statement (``partners.selectors.partners_due``),
3. scheduled calls/meetings and due reminders with their counts, one statement (a manager's whole team: each count
capped) (``activities.selectors.activities_today``), 4. the rows of every partner shown, with what their quick actions
need (``partner_list_rows``), 5. how each of those partners is usually reached (``channels_detected``), 6. "What to do
next": the top insights across the scope (``insights.selectors.insights_for_today``), 7. "Customers to engage" — the
customers due by the end of today, with their capped count — and the rows of those and of the customers of the calls,
meetings and reminders shown, in one statement (``leads.customer_selectors.customers_to_engage``), 8. "Tickets needing
you": the open tickets assigned to the user (``service.selectors.tickets_needing``).
The same whatever the number of partners and customers: each section is capped.

Speed (docs/benchmarks.md, issue 13): the sections' statements are fixed raw SQL built once per process (the ORM
compiled them anew on every request), and each shown partner's and customer's quick actions are built once here, not
per card in the template (a partner shows on its due card and on each of its calls).
"""

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from urllib.parse import urlencode

from django.contrib.auth.models import AbstractBaseUser
from django.urls import reverse
from django.utils import timezone

from activities.selectors import ActivitySection, activities_today, channels_detected
from dashboard.customer_actions import customer_log_url
from insights.models import Insight
from insights.selectors import insights_for_today
from leads.customer_selectors import (
    CustomerDueSection,
    customer_today_ids,
    customer_today_scope,
    customers_to_engage,
)
from leads.models import Customer
from partners import contacts as rules
from partners.models import Partner
from partners.selectors import (
    DueSection,
    partner_list_rows,
    partner_today_scope,
    partners_due,
    rep_options,
    user_sees_all_partners,
)
from partners.templating import log_url, quick_actions_html
from service.selectors import OpenTickets, tickets_needing

SECTION_LIMIT = 20
WEEK_DAYS = 7


@dataclass
class PartnerItems:
    rows: list[Partner]
    section: DueSection
    more_url: str = ""


@dataclass
class CustomerItems:
    """Today's "Customers to engage": rows (with ``quick_actions``), most overdue first, and the section's count."""

    rows: list[Customer]
    section: CustomerDueSection
    more_url: str = ""


@dataclass
class Today:
    overdue: PartnerItems
    due_soon: PartnerItems
    scheduled: ActivitySection
    reminders: ActivitySection
    partners: dict[int, Partner]  # every partner shown, by id (the activities' partners too)
    sees_all: bool
    rep: str = ""
    reps: list[tuple[str, str]] = field(default_factory=list)
    rep_unknown: bool = False
    insights: list[Insight] = field(default_factory=list)  # what to do next, best first (with rule, partner, tier)
    customers_due: CustomerItems | None = None  # customers whose engagement is overdue or due today
    customers: dict[int, Customer] = field(default_factory=dict)  # every customer shown (the activities' too), by id
    tickets: OpenTickets | None = None  # "Tickets needing you": open tickets assigned to the user (service)

    @property
    def empty(self) -> bool:
        return not (self.overdue.rows or self.due_soon.rows or self.scheduled.rows or self.reminders.rows
                    or (self.customers_due and self.customers_due.rows))


def _day_start(day) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def today_agenda(*, user: AbstractBaseUser, rep: str = "", limit: int = SECTION_LIMIT) -> Today:
    """Today for ``user``: across all their partners and customers (a manager: all they see, or those of the rep with
    username ``rep``). Times are in the active time zone. 8 queries (9 for a manager), see the module docstring."""
    now = timezone.now()
    today = timezone.localdate(now)
    week_end = _day_start(today + timedelta(days=WEEK_DAYS + 1))  # today and the next 7 days
    sees_all = user_sees_all_partners(user)
    reps, rep_unknown = [], False
    if sees_all:
        reps = rep_options()
        if rep and rep not in {username for username, _name in reps}:
            rep, rep_unknown = "", True
    else:
        rep = ""
    scope = partner_today_scope(user=user, rep=rep)
    customer_ids = customer_today_ids(user=user, rep=rep)
    due = partners_due(partners=scope, now=now, until=week_end, limit=limit)
    activities = activities_today(
        partners=scope, customer_ids=customer_ids, start=_day_start(today), until=week_end,
        reminders_until=_day_start(today + timedelta(days=1)), limit=limit,
    )
    ids = list(dict.fromkeys(
        due["overdue"].ids + due["due_soon"].ids
        + [a.partner_id for section in activities.values() for a in section.rows if a.partner_id is not None]
    ))
    rows = partner_list_rows(ids)
    detected = channels_detected(partner_ids=ids)
    insights = insights_for_today(partners=scope, sees_all=sees_all, whole_team=sees_all and not rep)
    placed = _placed(activities, "partner_id")
    for partner in rows:
        partner.detected_channel = detected.get(partner.pk, "")
        actions = rules.quick_actions(
            partner.primary_contacts, partner.primary_location, ids=partner.primary_contact_ids,
            preferred=partner.preferred_contact, detected=partner.detected_channel,
        )
        _set_actions(partner, actions, log_url(partner.pk), no_map=partner.pk in placed)
    partners = {partner.pk: partner for partner in rows}
    customer_scope = customer_today_scope(user=user, rep=rep)
    customers_due, customers = _customers(customer_scope, activities, until=_day_start(today + timedelta(days=1)),
                                          rep=rep, limit=limit)
    base = {"assigned_to": rep} if rep else {}
    list_url = reverse("partners:list")
    overdue_url = f"{list_url}?{urlencode({**base, 'overdue': 'on', 'sort': 'due'})}"
    last_day = (week_end.date() - timedelta(days=1)).isoformat()
    due_url = f"{list_url}?{urlencode({**base, 'due_by': last_day, 'sort': 'due'})}"
    return Today(
        overdue=PartnerItems(
            [partners[pk] for pk in due["overdue"].ids if pk in partners], due["overdue"], overdue_url
        ),
        due_soon=PartnerItems([partners[pk] for pk in due["due_soon"].ids if pk in partners], due["due_soon"], due_url),
        scheduled=activities["scheduled"],
        reminders=activities["reminders"],
        partners=partners,
        sees_all=sees_all,
        rep=rep,
        reps=reps,
        rep_unknown=rep_unknown,
        insights=insights,
        customers_due=customers_due,
        customers=customers,
        # Service tickets (issue 13): one query, the open tickets assigned to the user (or the filtered rep).
        tickets=tickets_needing(user=user, rep=rep),
    )


def _placed(activities: dict[str, ActivitySection], subject: str) -> set[int]:
    """The partners (``subject`` "partner_id") or customers ("customer_id") with a call or meeting card that has its
    own place: those cards show the subject's links without a second map link (built only for those)."""
    return {
        getattr(a, subject) for part in activities.values() for a in part.rows
        if getattr(a, subject) and (a.location_id or a.place)
    }


def _set_actions(row, actions: list[rules.QuickAction], log_link: str, *, no_map: bool) -> None:
    """A shown partner's or customer's quick actions as HTML, built once per row here (not per card in the template:
    a partner can show on its due card and on each of its calls): ``quick_actions`` and, for ``no_map``,
    ``quick_actions_no_map`` (the same links but the map link, which is always the last)."""
    row.quick_actions = quick_actions_html(actions, row.name, log_link)
    if no_map:
        row.quick_actions_no_map = quick_actions_html(
            [action for action in actions if action.action != "navigate"], row.name, log_link
        )


def _customers(scope, activities: dict[str, ActivitySection], *, until: datetime, rep: str, limit: int):
    """"Customers to engage" (due before ``until``, the end of today: overdue or due today) and the rows of every
    customer Today shows (those and the activities' customers), each with its quick actions: one query."""
    also = list(dict.fromkeys(a.customer_id for part in activities.values() for a in part.rows if a.customer_id))
    placed = _placed(activities, "customer_id")
    section, customers = customers_to_engage(customers=scope, until=until, limit=limit, also_ids=also)
    for customer in customers.values():
        actions = rules.quick_actions(customer.primary_contacts, customer.primary_location,
                                      ids=customer.primary_contact_ids)
        _set_actions(customer, actions, customer_log_url(customer.pk), no_map=customer.pk in placed)
    params = {"overdue": "on", "sort": "due", **({"assigned_to": rep} if rep else {})}
    more_url = f"{reverse('customers:list')}?{urlencode(params)}"
    return CustomerItems([customers[pk] for pk in section.ids if pk in customers], section, more_url), customers
