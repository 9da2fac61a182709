"""Whom an activity is with: a partner or a customer (``Activity.partner`` / ``Activity.customer``, exactly one).

The activity pages are the same for both — schedule, remind, log, edit, complete, cancel, the ``.ics`` download —
under ``/partners/<id>/activities/…`` (namespace ``activities``) and ``/customers/<id>/activities/…``
(``customer_activities``). A ``Subject`` is the one place that says what differs: how the record is looked up for
a user (its access helper: a 404 for anyone else's), its page, its locations and contacts, and which keyword the
services take. The views, forms and templates ask it instead of branching on the kind.
"""

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet
from django.urls import reverse

from leads.customer_selectors import customer_get_for_user
from leads.models import Customer
from partners.models import Partner
from partners.selectors import partner_get_for_user


@dataclass(frozen=True)
class Subject:
    partner: Partner | None = None
    customer: Customer | None = None

    def __post_init__(self):
        if (self.partner is None) == (self.customer is None):
            raise TypeError("an activity is with a partner or a customer: give exactly one")

    @property
    def obj(self) -> Partner | Customer:
        return self.partner if self.partner is not None else self.customer

    @property
    def pk(self) -> int:
        return self.obj.pk

    @property
    def name(self) -> str:
        return self.obj.name

    @property
    def is_customer(self) -> bool:
        return self.customer is not None

    @property
    def namespace(self) -> str:
        """The URL namespace of its activity pages (as ``Activity.url_namespace``)."""
        return "customer_activities" if self.is_customer else "activities"

    def url(self, name: str, *args: object) -> str:
        """One of its activity pages: ``subject.url("complete", activity.pk)``."""
        return reverse(f"{self.namespace}:{name}", args=[self.pk, *args])

    @property
    def detail_url(self) -> str:
        return reverse("customers:detail" if self.is_customer else "partners:detail", args=[self.pk])

    @property
    def list_url(self) -> str:
        return reverse("customers:list" if self.is_customer else "partners:list")

    @property
    def list_label(self) -> str:
        return "Customers" if self.is_customer else "Partners"

    def service_kwargs(self) -> dict:
        """The keyword the activities services take it by: ``partner=`` or ``customer=``."""
        return {"customer": self.customer} if self.is_customer else {"partner": self.partner}

    def locations(self) -> QuerySet:
        """Its locations, primary first (the forms' "Location" choices)."""
        return self.obj.locations.order_by("-is_primary", "id")

    def contacts(self) -> QuerySet:
        """Its contact points (a partner's ``ContactPoint`` rows, a customer's ``CustomerContact`` rows)."""
        return self.customer.contacts.all() if self.is_customer else self.partner.contact_points.all()


def subject_get_for_user(
    user: AbstractBaseUser, *, partner_pk: int | None = None, customer_pk: int | None = None
) -> Subject:
    """The partner ``partner_pk`` or the customer ``customer_pk`` (whichever the URL carries), through its own access
    helper: Http404 unless ``user`` may see it. One query after the visibility check."""
    if customer_pk is not None:
        return Subject(customer=customer_get_for_user(user, customer_pk))
    return Subject(partner=partner_get_for_user(user, partner_pk))


def subject_of(activity) -> Subject:
    """The subject of a loaded activity (its partner or customer: select_related it, or this is a query)."""
    if activity.partner_id is not None:
        return Subject(partner=activity.partner)
    return Subject(customer=activity.customer)
