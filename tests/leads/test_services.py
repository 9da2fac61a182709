"""leads.services: the lead workflow and conversion into customers."""

import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from leads import services as lead_services
from leads.models import Customer, Lead, LeadStageChange
from tests import factories

pytestmark = pytest.mark.django_db


def history(lead):
    return list(LeadStageChange.objects.filter(lead=lead).values_list("from_stage", "to_stage"))


def test_converting_a_lead_creates_a_customer_and_a_history_row(rep):
    partner = factories.PartnerFactory(assigned_to=rep)
    lead = lead_services.lead_create(by=rep, name="Big deal", partner=partner, expected_value=Decimal("5000"))
    lead_services.lead_move(lead=lead, to_stage=Lead.Stage.QUALIFIED, by=rep)
    customer = lead_services.lead_convert(lead=lead, by=rep)
    lead.refresh_from_db()
    assert lead.stage == Lead.Stage.WON
    assert lead.value == Decimal("5000")
    assert lead.converted_at is not None
    assert isinstance(customer, Customer) and customer.partner == partner and customer.lead == lead
    assert history(lead) == [("", "new"), ("new", "qualified"), ("qualified", "won")]
    with pytest.raises(ValidationError):
        lead_services.lead_convert(lead=lead, by=rep)
    assert Customer.objects.filter(lead=lead).count() == 1


def test_losing_a_lead_keeps_its_reason(rep):
    lead = lead_services.lead_create(by=rep, name="Small deal")
    lead_services.lead_lose(lead=lead, by=rep, reason="  Went with a\ncompetitor  ")
    lead.refresh_from_db()
    assert lead.stage == Lead.Stage.LOST and lead.lost_at is not None
    assert lead.lost_reason == "Went with a competitor"  # whitespace folded
    assert history(lead) == [("", "new"), ("new", "lost")]
    assert not Customer.objects.exists()


@pytest.mark.parametrize("reason, message", [
    ("", "Say why the lead was lost."),
    ("   \n\t ", "Say why the lead was lost."),
    ("x" * 301, "Keep the reason to 300 characters (it has 301)."),
])
def test_losing_needs_a_reason_of_at_most_300_characters(rep, reason, message):
    lead = lead_services.lead_create(by=rep, name="Small deal")
    with pytest.raises(ValidationError) as caught:
        lead_services.lead_lose(lead=lead, by=rep, reason=reason)
    assert caught.value.message_dict == {"reason": [message]}
    lead.refresh_from_db()
    assert lead.stage == Lead.Stage.NEW and lead.lost_at is None and lead.lost_reason == ""
    assert history(lead) == [("", "new")]


def test_a_reason_of_exactly_300_characters_is_kept(rep):
    lead = lead_services.lead_create(by=rep, name="Small deal")
    lead_services.lead_lose(lead=lead, by=rep, reason="y" * 300)
    lead.refresh_from_db()
    assert lead.lost_reason == "y" * 300


def test_a_lost_lead_cannot_be_converted_and_nothing_is_written(rep):
    lead = lead_services.lead_create(by=rep, name="Gone", partner=factories.PartnerFactory(assigned_to=rep))
    lead_services.lead_lose(lead=lead, by=rep, reason="No budget")
    with pytest.raises(ValidationError) as caught:
        lead_services.lead_convert(lead=lead, by=rep, value=Decimal("10"))
    assert caught.value.messages == ["This lead is already lost: it can't be converted."]
    lead.refresh_from_db()
    assert lead.stage == Lead.Stage.LOST and lead.value is None and lead.converted_at is None
    assert not Customer.objects.exists()
    assert history(lead) == [("", "new"), ("new", "lost")]


def test_a_closed_lead_cannot_be_moved_or_lost_again(rep):
    lead = lead_services.lead_create(by=rep, name="Won")
    lead_services.lead_convert(lead=lead, by=rep)
    with pytest.raises(ValidationError) as caught:
        lead_services.lead_move(lead=lead, to_stage=Lead.Stage.CONTACTED, by=rep)
    assert caught.value.messages == ["This lead is already won: it can't be moved."]
    with pytest.raises(ValidationError) as caught:
        lead_services.lead_lose(lead=lead, by=rep, reason="Changed my mind")
    assert caught.value.messages == ["This lead is already won: it can't be marked lost."]
    lead.refresh_from_db()
    assert lead.stage == Lead.Stage.WON and lead.lost_reason == ""
    assert history(lead) == [("", "new"), ("new", "won")]


def test_moving_to_the_stage_it_is_at_or_to_a_closed_stage_is_refused(rep):
    lead = lead_services.lead_create(by=rep, name="Lead")
    with pytest.raises(ValidationError) as caught:
        lead_services.lead_move(lead=lead, to_stage=Lead.Stage.NEW, by=rep)
    assert caught.value.message_dict == {"stage": ["The lead is already new."]}
    for closed in (Lead.Stage.WON, Lead.Stage.LOST, "bogus"):
        with pytest.raises(ValidationError) as caught:
            lead_services.lead_move(lead=lead, to_stage=closed, by=rep)
        assert "stage" in caught.value.message_dict
    assert history(lead) == [("", "new")]


@pytest.mark.parametrize("value, message", [
    (Decimal("-1"), "The value can't be negative."),
    (Decimal("1e13"), "Ensure that there are no more than 12 digits before the decimal point."),
    (Decimal("1.005"), "Ensure that there are no more than 2 decimal places."),
])
def test_a_bad_booked_value_is_refused_before_anything_is_written(rep, value, message):
    lead = lead_services.lead_create(by=rep, name="Lead", expected_value=Decimal("100"))
    with pytest.raises(ValidationError) as caught:
        lead_services.lead_convert(lead=lead, by=rep, value=value)
    assert message in caught.value.message_dict["value"][0]
    lead.refresh_from_db()
    assert lead.stage == Lead.Stage.NEW and not Customer.objects.exists()


def test_converting_books_the_value_given(rep):
    lead = lead_services.lead_create(by=rep, name="Lead", expected_value=Decimal("100"))
    lead_services.lead_convert(lead=lead, by=rep, value=Decimal("0"))
    lead.refresh_from_db()
    assert lead.value == Decimal("0")  # zero is a value, not "use the expected one"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_concurrent_converts_make_one_customer(rep):
    """Two requests converting the same lead at once: the lead's row lock makes the second wait for the first, then
    find the lead won. One customer, one "won" history row, one error."""
    lead = lead_services.lead_create(by=rep, name="Race", partner=factories.PartnerFactory(assigned_to=rep))
    barrier = threading.Barrier(2)
    outcomes = []

    def convert():
        try:
            barrier.wait()
            lead_services.lead_convert(lead=Lead.objects.get(pk=lead.pk), by=rep)
            outcomes.append("converted")
        except ValidationError as error:
            outcomes.append(error.messages[0])
        finally:
            connection.close()

    threads = [threading.Thread(target=convert) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["This lead is already won: it can't be converted.", "converted"]
    assert Customer.objects.filter(lead=lead).count() == 1
    assert LeadStageChange.objects.filter(lead=lead, to_stage=Lead.Stage.WON).count() == 1


def test_a_lead_is_touched_when_created_moved_and_when_an_activity_about_it_is_created_or_done(rep):
    """Lead.last_touched_at (the "lead without follow-up" insight reads it): creation, a stage change, an activity
    about the lead created and completed; it never moves back (cancelling touches nothing)."""
    from datetime import timedelta

    from django.utils import timezone

    from activities import services as activity_services

    partner = factories.PartnerFactory(assigned_to=rep)
    created = timezone.now() - timedelta(days=20)
    lead = lead_services.lead_create(by=rep, name="Acme", partner=partner, created_at=created)
    assert Lead.objects.get(pk=lead.pk).last_touched_at == created
    planned = activity_services.activity_schedule(partner=partner, by=rep, kind="call", lead=lead,
                                                  start_at=timezone.now() + timedelta(days=2))
    touched = Lead.objects.get(pk=lead.pk).last_touched_at
    assert touched == planned.created_at
    activity_services.activity_cancel(activity=planned, by=rep)
    assert Lead.objects.get(pk=lead.pk).last_touched_at == touched
    done = activity_services.activity_log(partner=partner, by=rep, kind="call", lead=lead,
                                          start_at=timezone.now() - timedelta(hours=1))
    logged_at = max(done.created_at, done.completed_at)
    assert Lead.objects.get(pk=lead.pk).last_touched_at == logged_at
    lead_services.lead_touch(lead_id=lead.pk, at=created)  # an older touch does not move it back
    assert Lead.objects.get(pk=lead.pk).last_touched_at == logged_at
    moved = lead_services.lead_move(lead=Lead.objects.get(pk=lead.pk), to_stage=Lead.Stage.CONTACTED, by=rep)
    assert Lead.objects.get(pk=lead.pk).last_touched_at >= logged_at
    assert moved.last_touched_at == Lead.objects.get(pk=lead.pk).last_touched_at
