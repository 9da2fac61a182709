"""The preferred messenger of a partner (ContactPoint.preferred_channel): constraint, validation, the edit form, its
detection from logged engagements, the quick actions it leads (list, Today, partner page) and WeChat's link."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from activities import services as activity_services
from activities.selectors import channels_detected
from partners import contacts
from partners.models import ContactPoint
from partners.services import partner_save_contacts_and_locations
from tests import factories

pytestmark = pytest.mark.django_db


def contact(partner, kind, value, **kwargs):
    return ContactPoint.objects.create(partner=partner, kind=kind, value=value, **kwargs)


# --- Model: one per partner, and only on a contact of a fitting kind ------------------------------------------------


def test_one_preferred_contact_per_partner_is_a_db_constraint(rep):
    partner = factories.PartnerFactory(assigned_to=rep)
    contact(partner, "whatsapp", "+91 98450 11111", preferred_channel="whatsapp")
    with pytest.raises(IntegrityError), transaction.atomic():
        contact(partner, "email", "a@example.com", preferred_channel="email")
    other = factories.PartnerFactory(assigned_to=rep)
    contact(other, "email", "b@example.com", preferred_channel="email")  # another partner's: fine


def test_the_channel_must_fit_the_contact_kind(rep):
    partner = factories.PartnerFactory(assigned_to=rep)
    with pytest.raises(IntegrityError), transaction.atomic():
        contact(partner, "mobile", "+91 98450 11111", preferred_channel="wechat")  # DB check constraint
    row = ContactPoint(partner=partner, kind="email", value="a@example.com", preferred_channel="sms")
    with pytest.raises(ValidationError) as error:
        row.full_clean()
    assert error.value.message_dict["preferred_channel"] == ["SMS needs a Mobile or Phone contact, not Email."]
    for kind, channel in [("mobile", "whatsapp"), ("whatsapp", "call"), ("phone", "sms"), ("wechat", "wechat"),
                          ("email", "email")]:
        ContactPoint(partner=partner, kind=kind, value="+91 98450 11111" if kind != "email" else "a@example.com",
                     preferred_channel=channel).full_clean()


# --- The partner form's contacts formset and the service ------------------------------------------------------------


def form_data(partner, rows):
    data = {
        "name": partner.name, "code": partner.code, "kind": "organisation", "tier": partner.tier_id,
        "status": "active", "status_reason": "",
        "contacts-TOTAL_FORMS": str(len(rows)), "contacts-INITIAL_FORMS": "0",
        "contacts-MIN_NUM_FORMS": "0", "contacts-MAX_NUM_FORMS": "1000",
        "locations-TOTAL_FORMS": "0", "locations-INITIAL_FORMS": "0",
        "locations-MIN_NUM_FORMS": "0", "locations-MAX_NUM_FORMS": "1000",
    }
    for number, row in enumerate(rows):
        for key, value in row.items():
            data[f"contacts-{number}-{key}"] = value
    return data


def test_edit_form_marks_the_preferred_messenger(rep_client, rep):
    partner = factories.PartnerFactory(assigned_to=rep)
    rows = [{"kind": "mobile", "value": "+91 98450 11111", "is_primary": "on", "preferred_channel": "whatsapp"},
            {"kind": "email", "value": "a@example.com", "is_primary": "on", "preferred_channel": ""}]
    response = rep_client.post(reverse("partners:edit", args=[partner.pk]), form_data(partner, rows))
    assert response.status_code == 302, response.context and response.context["contact_formset"].errors
    assert list(partner.contact_points.exclude(preferred_channel="").values_list("kind", "preferred_channel")) == [
        ("mobile", "whatsapp")
    ]
    html = rep_client.get(reverse("partners:detail", args=[partner.pk])).content.decode()
    assert "preferred: WhatsApp" in html


def test_edit_form_refuses_two_preferred_and_a_misfit_with_messages(rep_client, rep):
    partner = factories.PartnerFactory(assigned_to=rep)
    rows = [{"kind": "mobile", "value": "+91 98450 11111", "preferred_channel": "call"},
            {"kind": "email", "value": "a@example.com", "preferred_channel": "email"}]
    response = rep_client.post(reverse("partners:edit", args=[partner.pk]), form_data(partner, rows))
    assert response.status_code == 200
    formset = response.context["contact_formset"]
    assert "Only one contact can be the preferred messenger" in str(formset.non_form_errors())
    rows = [{"kind": "email", "value": "a@example.com", "preferred_channel": "whatsapp"}]
    response = rep_client.post(reverse("partners:edit", args=[partner.pk]), form_data(partner, rows))
    errors = response.context["contact_formset"].forms[0].errors
    assert errors["preferred_channel"] == ["WhatsApp needs a WhatsApp or Mobile contact, not Email."]
    assert not partner.contact_points.exists()  # nothing half-written


def test_moving_the_preferred_messenger_to_another_contact(rep):
    partner = factories.PartnerFactory(assigned_to=rep)
    mobile = contact(partner, "mobile", "+91 98450 11111", is_primary=True, preferred_channel="sms")
    email = contact(partner, "email", "a@example.com", is_primary=True)
    partner_save_contacts_and_locations(partner=partner, contacts=[
        {"id": mobile.pk, "kind": "mobile", "value": mobile.value, "label": "", "is_primary": True,
         "preferred_channel": ""},
        {"id": email.pk, "kind": "email", "value": email.value, "label": "", "is_primary": True,
         "preferred_channel": "email"},
    ])
    assert dict(partner.contact_points.values_list("kind", "preferred_channel")) == {"mobile": "", "email": "email"}


# --- Detection from logged engagements -------------------------------------------------------------------------------


def log(partner, rep, *, kind, channel="", days_ago=1):
    return activity_services.activity_log(
        partner=partner, by=rep, kind=kind, channel=channel, start_at=timezone.now() - timedelta(days=days_ago)
    )


def test_detection_is_the_most_used_channel_of_the_recent_engagements(rep):
    whatsapp_fan, caller, tie, silent, old_habit = (factories.PartnerFactory(assigned_to=rep) for _ in range(5))
    for days in (1, 2, 3):
        log(whatsapp_fan, rep, kind="message", channel="whatsapp", days_ago=days)
    log(whatsapp_fan, rep, kind="call", days_ago=4)
    log(caller, rep, kind="call", days_ago=1)  # a call without a channel counts as a call
    log(caller, rep, kind="visit", days_ago=2)  # a visit says nothing about messengers
    log(tie, rep, kind="email", days_ago=5)
    log(tie, rep, kind="message", channel="wechat", days_ago=1)  # tie: the most recent wins
    for days in range(20, 32):
        log(old_habit, rep, kind="email", days_ago=days)
    for days in range(1, 11):  # the last 10 are all SMS: the older emails no longer count
        log(old_habit, rep, kind="message", channel="sms", days_ago=days)
    ids = [p.pk for p in (whatsapp_fan, caller, tie, silent, old_habit)]
    assert channels_detected(partner_ids=ids) == {
        whatsapp_fan.pk: "whatsapp", caller.pk: "call", tie.pk: "wechat", old_habit.pk: "sms"
    }
    assert channels_detected(partner_ids=[]) == {}


def test_detection_is_one_query_for_many_partners(rep, django_assert_num_queries):
    partners = [factories.PartnerFactory(assigned_to=rep) for _ in range(12)]
    for partner in partners:
        log(partner, rep, kind="message", channel="whatsapp")
    with django_assert_num_queries(1):
        assert len(channels_detected(partner_ids=[p.pk for p in partners])) == 12


# --- Quick actions: preferred first, detected next, WeChat's link ---------------------------------------------------


def test_quick_actions_lead_with_the_preferred_then_the_detected_channel():
    primary = {"mobile": "+91 98450 12345", "email": "a@b.example", "wechat": "acme_li"}
    plain = contacts.quick_actions(primary, None)
    assert [a.action for a in plain] == ["call", "sms", "whatsapp", "email", "wechat"]
    detected = contacts.quick_actions(primary, None, detected="email")
    assert [a.action for a in detected][:2] == ["email", "call"] and detected[0].preferred == "detected"
    preferred = contacts.quick_actions(
        primary, None, detected="email",
        preferred={"channel": "wechat", "kind": "wechat", "value": "acme_li", "id": 7},
    )
    assert preferred[0] == contacts.QuickAction("wechat", "weixin://dl/chat?acme_li", "acme_li", 7, "preferred")
    assert [a.action for a in preferred].count("wechat") == 1
    # A detected channel the partner has no contact for changes nothing.
    assert contacts.quick_actions({"email": "a@b.example"}, None, detected="whatsapp")[0].action == "email"


def test_wechat_gets_a_working_link_and_it_is_a_safe_scheme():
    assert contacts.wechat_href("acme li/x") == "weixin://dl/chat?acme%20li%2Fx"
    assert contacts.safe_href("weixin://dl/chat?acme_li") == "weixin://dl/chat?acme_li"
    assert contacts.wechat_href("") == ""


def test_list_row_one_tap_goes_to_the_preferred_or_usual_channel(rep_client, rep):
    marked = factories.PartnerFactory(name="Marked", assigned_to=rep)
    contact(marked, "mobile", "+91 98450 11111", is_primary=True)
    contact(marked, "wechat", "marked_wx", is_primary=True, preferred_channel="wechat")
    usual = factories.PartnerFactory(name="Usual", assigned_to=rep)
    contact(usual, "mobile", "+91 98450 22222", is_primary=True)
    log(usual, rep, kind="message", channel="whatsapp")
    html = rep_client.get(reverse("partners:list"), {"sort": "name"}).content.decode()
    marked_row = html[html.index(">Marked<"):html.index(">Usual<")]
    usual_row = html[html.index(">Usual<"):]
    first = marked_row.index('class="qa ')
    assert marked_row[first:].startswith('class="qa qa-wechat qa-preferred" href="weixin://dl/chat?marked_wx"')
    assert 'title="Preferred: WeChat: marked_wx"' in marked_row
    first = usual_row.index('class="qa ')
    assert usual_row[first:].startswith('class="qa qa-whatsapp qa-preferred" href="https://wa.me/919845022222"')
    assert 'title="Usually: WhatsApp' in usual_row


def test_quick_actions_carry_the_log_this_prefill(rep_client, rep):
    partner = factories.PartnerFactory(name="Acme", assigned_to=rep)
    mobile = contact(partner, "mobile", "+91 98450 11111", is_primary=True)
    email = contact(partner, "email", "a@example.com", is_primary=True)
    log_url = reverse("activities:log", args=[partner.pk])
    for url in (reverse("partners:list"), reverse("partners:detail", args=[partner.pk])):
        html = rep_client.get(url).content.decode()
        assert f'data-log="{log_url}?kind=call&amp;channel=call&amp;contact={mobile.pk}"' in html, url
        assert f'data-log="{log_url}?kind=message&amp;channel=whatsapp&amp;contact={mobile.pk}"' in html, url
        assert f'data-log="{log_url}?kind=email&amp;channel=email&amp;contact={email.pk}"' in html, url
        assert 'src="/static/js/quick.js"' in html
