"""The shared-lead pages: the staff's "Share with a partner" (dashboard.share_views) and the portal's leads
(portal.lead_views) — scoping (another partner's ids: 404 on every verb; a lead the rep cannot see: 404), contact data
only once accepted, HTML escaped, bad input as field errors, query counts of the lists."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from leads import services as lead_services
from leads.models import Lead
from notifications.models import Notification
from portal.models import SharedLead
from portal.share_services import lead_share, shared_lead_accept
from tests import factories

Status = SharedLead.Status
VERBS = ("get", "post", "put", "delete")


@pytest.fixture
def lead(rep):
    return lead_services.lead_create(by=rep, name="Ravi <b>Kumar</b>", company="Ravi Traders",
                                     email="ravi@traders.example", phone="+91 98450 12345")


@pytest.fixture
def shared(lead, acme, acme_admin, rep):
    return lead_share(lead=lead, partner=acme, by=rep, note="<script>alert(1)</script> wants 40 licences")


def portal_urls(share):
    return [reverse(name, args=[share.pk]) for name in
            ("portal:lead_detail", "portal:lead_accept", "portal:lead_decline", "portal:lead_follow_up")]


# --- Staff: share a lead ----------------------------------------------------------------------------------------------


def test_staff_share_form_shares_the_lead(rep_client, lead, acme, acme_admin, rep):
    url = reverse("leads:share", args=[lead.pk])
    assert rep_client.get(url).status_code == 200
    response = rep_client.post(url, {"partner_ref": acme.code, "note": "Call before Friday"})
    assert response.status_code == 302 and response.url == reverse("leads:detail", args=[lead.pk])
    share = SharedLead.objects.get()
    assert share.partner == acme and share.note == "Call before Friday" and share.shared_by == rep
    page = rep_client.get(response.url)
    html = page.content.decode()
    assert 'id="lead-share"' in html and "Acme Distribution" in html and "Offered" in html
    assert reverse("leads:share_withdraw", args=[lead.pk]) in html  # an open share can be taken back


def test_staff_share_form_errors(rep_client, lead, acme, acme_admin, globex, globex_admin):
    url = reverse("leads:share", args=[lead.pk])
    response = rep_client.post(url, {"partner_ref": globex.code, "note": ""})  # not the rep's partner
    assert response.status_code == 400 and "None of your partners" in response.content.decode()
    response = rep_client.post(url, {"partner_ref": acme.code, "note": "x" * 1001})
    assert response.status_code == 400 and "at most 1000 characters" in response.content.decode()
    assert not SharedLead.objects.exists()


def test_staff_share_of_a_partner_without_users_is_a_field_error(rep_client, lead, rep):
    partner = factories.PartnerFactory(assigned_to=rep, name="Lonely Ltd")
    response = rep_client.post(reverse("leads:share", args=[lead.pk]), {"partner_ref": partner.code})
    assert response.status_code == 400 and "no active portal users" in response.content.decode()


def test_staff_share_url_is_404_for_a_lead_the_rep_cannot_see(client, other_rep, lead, acme, acme_admin):
    client.force_login(other_rep)
    for url in (reverse("leads:share", args=[lead.pk]), reverse("leads:share_withdraw", args=[lead.pk])):
        for verb in VERBS:
            assert getattr(client, verb)(url, {"partner_ref": acme.code}).status_code == 404, (verb, url)
    assert not SharedLead.objects.exists()


def test_staff_withdraw(rep_client, shared, lead):
    response = rep_client.post(reverse("leads:share_withdraw", args=[lead.pk]))
    assert response.status_code == 302
    assert SharedLead.objects.get().status == Status.WITHDRAWN
    assert rep_client.get(reverse("leads:share_withdraw", args=[lead.pk])).status_code == 405


def test_the_share_form_of_a_shared_lead_says_so(rep_client, shared, lead, acme):
    response = rep_client.post(reverse("leads:share", args=[lead.pk]), {"partner_ref": acme.code})
    assert response.status_code == 400 and "already shared with Acme Distribution" in response.content.decode()
    assert SharedLead.objects.count() == 1


def test_partner_users_never_reach_the_staff_share_pages(acme_client, lead, acme):
    assert acme_client.get(reverse("leads:share", args=[lead.pk])).status_code == 404
    assert acme_client.post(reverse("leads:share", args=[lead.pk]), {"partner_ref": acme.code}).status_code == 404


# --- Portal: the partner's leads --------------------------------------------------------------------------------------


def test_offered_lead_shows_company_and_note_but_no_contact(acme_client, shared):
    response = acme_client.get(reverse("portal:lead_detail", args=[shared.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Ravi Traders" in html and "wants 40 licences" in html
    assert "Kumar" not in html and "ravi@traders.example" not in html and "98450" not in html
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html  # escaped


def test_accept_then_contact_shows_and_follow_up(acme_client, shared, lead, acme):
    response = acme_client.post(reverse("portal:lead_accept", args=[shared.pk]))
    assert response.status_code == 302
    html = acme_client.get(response.url).content.decode()
    assert "ravi@traders.example" in html and "Ravi &lt;b&gt;Kumar&lt;/b&gt;" in html and "<b>Kumar" not in html
    assert Lead.objects.get(pk=lead.pk).partner == acme
    response = acme_client.post(reverse("portal:lead_follow_up", args=[shared.pk]), {"note": ""})
    assert response.status_code == 400 and "This field is required." in response.content.decode()
    response = acme_client.post(reverse("portal:lead_follow_up", args=[shared.pk]), {"note": "Met <i>them</i>"})
    assert response.status_code == 302
    share = SharedLead.objects.get()
    assert share.status == Status.FOLLOWED_UP and share.response_note == "Met <i>them</i>"
    assert "Met &lt;i&gt;them&lt;/i&gt;" in acme_client.get(response.url).content.decode()


def test_decline_from_the_portal(acme_client, shared, rep):
    response = acme_client.post(reverse("portal:lead_decline", args=[shared.pk]), {"reason": ""})
    assert response.status_code == 400 and "This field is required." in response.content.decode()
    response = acme_client.post(reverse("portal:lead_decline", args=[shared.pk]), {"reason": "Too far away"})
    assert response.status_code == 302 and response.url == reverse("portal:leads")
    assert SharedLead.objects.get().status == Status.DECLINED
    assert Notification.objects.get(event=Notification.Event.LEAD_RETURNED).recipient == rep


def test_a_refused_action_is_a_message_not_an_error(acme_client, shared):
    acme_client.post(reverse("portal:lead_accept", args=[shared.pk]))
    response = acme_client.post(reverse("portal:lead_accept", args=[shared.pk]), follow=True)
    assert response.status_code == 200 and "be accepted now" in response.content.decode()


def test_every_portal_lead_url_is_404_for_the_other_partner_on_every_verb(globex_client, shared):
    for url in portal_urls(shared):
        for verb in VERBS:
            response = getattr(globex_client, verb)(url, {"reason": "x", "note": "x"})
            assert response.status_code == 404, (verb, url)
    assert SharedLead.objects.get().status == Status.OFFERED


def test_staff_do_not_reach_the_portal_lead_pages(rep_client, shared):
    for url in [reverse("portal:leads"), *portal_urls(shared)]:
        assert rep_client.get(url).status_code == 404


def test_list_order_and_query_count(acme_client, acme, acme_admin, rep, django_assert_num_queries):
    now = timezone.now()
    shares = {}
    for n in range(30):
        lead = factories.LeadFactory(partner=None, assigned_to=rep, name=f"Contact {n}", company=f"Company {n:02d}")
        shares[n] = lead_share(lead=lead, partner=acme, by=rep, now=now - timedelta(hours=n))
    for n in range(10):  # accepted ones come after the offered ones
        shared_lead_accept(share=shares[n], member=acme_admin)
    # 1. session, 2. user, 3. membership with partner and tier, 4. the page's shares with their leads (one JOIN),
    # 5. the bell's unread messages (portal/base.html).
    with django_assert_num_queries(5):
        response = acme_client.get(reverse("portal:leads"))
    rows = response.context["shares"]
    assert len(rows) == 25 and response.context["page"].has_next
    statuses = [row.status for row in rows]
    assert statuses[:20] == ["offered"] * 20 and statuses[20:] == ["accepted"] * 5
    # offered: the soonest deadline first (the oldest offer)
    assert rows[0].pk == shares[29].pk
    html = response.content.decode()
    assert "Contact 29" not in html and "Company 29" in html  # offered: the company only
    page2 = acme_client.get(reverse("portal:leads"), {"page": "2"})
    assert len(page2.context["shares"]) == 5 and "Contact 5" in page2.content.decode()
    assert acme_client.get(reverse("portal:leads"), {"page": "abc"}).status_code == 200


def test_detail_query_count(acme_client, shared, django_assert_num_queries):
    # 1. session, 2. user, 3. membership with partner and tier, 4. the share with its lead and who shared it,
    # 5. the bell's unread messages.
    with django_assert_num_queries(5):
        assert acme_client.get(reverse("portal:lead_detail", args=[shared.pk])).status_code == 200


def test_oversized_answers_are_refused_by_the_form(acme_client, shared):
    response = acme_client.post(reverse("portal:lead_decline", args=[shared.pk]), {"reason": "x" * 1001})
    assert response.status_code == 400 and "at most 1000 characters" in response.content.decode()
    assert SharedLead.objects.get().status == Status.OFFERED
