"""The insight rule ``ticket_breach`` (insights.evaluate._ticket_breach, insights.sentences): a running ticket of one
of the partner's customers past its resolution time, one insight per ticket on that partner, resolved when the
ticket is no longer breached; the sentence from its evidence."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from insights.evaluate import insights_evaluate
from insights.models import Insight, Rule
from insights.sentences import insight_sentence, sentence_for
from partners.models import Partner
from service import services
from service.models import Ticket
from tests import factories

pytestmark = pytest.mark.django_db
CODE = Rule.Code.TICKET_BREACH


def breaches(state=Insight.State.OPEN):
    return {i.subject: i for i in Insight.objects.filter(rule__code=CODE, state=state)}


def overdue(customer, *, priority="urgent", subject="Printer down", hours=5):
    """A ticket opened ``hours`` ago (so past an urgent ticket's 4 hours)."""
    return factories.ticket(customer, priority=priority, subject=subject,
                            now=timezone.now() - timedelta(hours=hours))


def test_the_rule_row_exists_with_its_action():
    rule = Rule.objects.get(code=CODE)
    assert (rule.enabled, rule.action, rule.weight) == (True, Rule.Action.LOG_CALL, 85)


def test_a_ticket_past_its_resolution_time_is_an_insight_on_the_customers_partner(rep):
    partner = factories.PartnerFactory(name="Acme", assigned_to=rep, tier=factories.tier("Gold"))
    customer = factories.CustomerFactory(name="Foo", partner=partner, assigned_to=rep)
    late = overdue(customer)
    overdue(customer, priority="low", subject="Not late yet")  # low: 7 days
    on_time = factories.ticket(customer, priority="urgent", subject="Fresh")
    assert on_time

    counts = insights_evaluate()
    assert counts[CODE]["seen"] == 1
    [insight] = breaches().values()
    assert (insight.partner_id, insight.subject) == (partner.pk, f"ticket:{late.pk}")
    assert insight.fingerprint == f"ticket_breach:{partner.pk}:{late.pk}"
    assert insight.evidence["customer"] == "Foo" and insight.evidence["priority_label"] == "Urgent"
    assert insight.score == 85 + 20 + 50  # weight + Gold + urgent
    when = "due today" if insight.evidence["due_on"] == timezone.localdate().isoformat() else "overdue by 1 day"
    assert insight_sentence(insight) == (
        f"Acme's customer Foo has an urgent ticket past its resolution time (#{late.pk} “Printer down”, {when})."
        " Call them.")
    assert insights_evaluate()[CODE] == {"seen": 1, "written": 0, "resolved": 0}  # idempotent


def test_a_resolved_or_paused_ticket_resolves_the_insight(rep):
    partner = factories.PartnerFactory(assigned_to=rep)
    customer = factories.CustomerFactory(partner=partner, assigned_to=rep)
    first, second = overdue(customer, subject="One"), overdue(customer, subject="Two")
    insights_evaluate(partner_ids=[partner.pk])
    assert len(breaches()) == 2
    services.ticket_set_status(ticket=first, by=rep, status=Ticket.Status.RESOLVED)
    services.ticket_set_status(ticket=second, by=rep, status=Ticket.Status.WAITING)  # the clock stopped
    assert insights_evaluate(partner_ids=[partner.pk])[CODE]["resolved"] == 2
    assert len(breaches(Insight.State.RESOLVED)) == 2


def test_only_assigned_active_partners_and_their_own_customers(rep, other_rep):
    inactive = factories.PartnerFactory(assigned_to=rep, status=Partner.Status.INACTIVE)
    unassigned = factories.PartnerFactory(assigned_to=None)
    for partner in (inactive, unassigned):
        overdue(factories.CustomerFactory(partner=partner, assigned_to=rep), subject=f"on {partner.pk}")
    overdue(factories.CustomerFactory(partner=None, assigned_to=rep), subject="no partner")
    mine = factories.PartnerFactory(assigned_to=rep)
    theirs = factories.PartnerFactory(assigned_to=other_rep)
    overdue(factories.CustomerFactory(partner=theirs, assigned_to=other_rep), subject="theirs")
    insights_evaluate(partner_ids=[mine.pk])  # one partner's run: only its customers' tickets
    assert breaches() == {}
    insights_evaluate()
    assert {i.partner_id for i in breaches().values()} == {theirs.pk}


def test_a_disabled_rule_finds_nothing(rep):
    customer = factories.CustomerFactory(partner=factories.PartnerFactory(assigned_to=rep), assigned_to=rep)
    overdue(customer)
    insights_evaluate()
    Rule.objects.filter(code=CODE).update(enabled=False)
    assert insights_evaluate()[CODE]["resolved"] == 1


@pytest.mark.parametrize(("evidence", "sentence"), [
    ({"customer": "Foo", "partner": "Acme", "priority_label": "High", "ticket_id": 7, "subject": "Late delivery",
      "due_on": "2026-11-20"},
     "Acme's customer Foo has a high ticket past its resolution time (#7 “Late delivery”, overdue by 3 days)."
     " Call them."),
    ({"customer": "Foo", "priority": "urgent"},
     "Foo has an urgent ticket past its resolution time. Call them."),
    ({}, "A customer has a ticket past its resolution time. Call them."),
    ("not a dict", "A customer's ticket is past its resolution time. Call them."),
])
def test_the_sentence(evidence, sentence):
    assert sentence_for(CODE, evidence, today=date(2026, 11, 23)) == sentence


def test_a_ticket_change_re_evaluates_its_customers_partner_after_commit(rep, django_capture_on_commit_callbacks):
    """insights.signals watches tickets: the partner that brought the customer is re-evaluated once the change
    commits, so a resolved ticket's suggestion goes without waiting for the night."""
    from insights.tasks import evaluate_partner_insights

    partner = factories.PartnerFactory(assigned_to=rep)
    customer = factories.CustomerFactory(partner=partner, assigned_to=rep)
    ticket = overdue(customer)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.ticket_set_status(ticket=ticket, by=rep, status=Ticket.Status.RESOLVED)
    assert callbacks  # enqueued on commit only
    evaluate_partner_insights.apply(args=[partner.pk])  # what the worker runs
    assert insights_evaluate(partner_ids=[partner.pk])[CODE]["seen"] == 0
    orphan = factories.CustomerFactory(partner=None, assigned_to=rep)  # a customer no partner brought: nothing to do
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        overdue(orphan)
    assert not callbacks
