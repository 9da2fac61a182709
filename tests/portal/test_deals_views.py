"""The deal registration pages: the portal's (/portal/deals/…) and the staff's (/deals/…). Query budgets, the forms'
safety (normalised domain, oversized text, HTML escaped, a double submit is one registration), and isolation: another
partner's ids — or a partner a rep does not see — are a 404 on every verb of every URL."""

from datetime import date
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from leads.models import Lead
from portal import deal_services as services
from portal.models import DealRegistration
from portal.selectors import PARTNER, SESSION_KIND

Status = DealRegistration.Status
FORM = {"company": "Initech", "domain": "http://WWW.Example.COM/path", "contact_name": "Bill",
        "contact_email": "bill@example.com", "contact_phone": "+49 1", "country": "de", "amount": "5000",
        "currency": "EUR", "expected_close": "2027-03-31", "notes": "50 licences"}
FIELDS = dict(company="Initech", domain="initech.com", contact_name="Bill", contact_email="", contact_phone="",
              country="DE", amount=Decimal("100"), currency="EUR", expected_close=date(2027, 1, 1), notes="")


def logged_in(user, *, partner=False):
    client = Client()
    client.force_login(user)
    if partner:
        session = client.session
        session[SESSION_KIND] = PARTNER
        session.save()
    return client


def submit(member, **overrides):
    registration = services.deal_save(member=member, **{**FIELDS, **overrides})
    return services.deal_submit(registration=registration, member=member).registration


@pytest.fixture
def acme_web(acme_member):
    return logged_in(acme_member.user, partner=True)


# --- The portal ---------------------------------------------------------------------------------------------------


def test_portal_list_is_the_partners_own_in_six_queries(acme_web, acme_member, globex_admin,
                                                         django_assert_num_queries):
    for n in range(30):
        services.deal_save(member=acme_member, **{**FIELDS, "company": f"Prospect {n:02d}"})
    submit(globex_admin, company="Globex secret prospect")
    with django_assert_num_queries(6):
        # session, user, membership (with partner and tier), the count with the page's ids, the rows, the bell's
        # unread messages (the portal layout's)
        response = acme_web.get(reverse("portal:deals"))
    assert response.status_code == 200
    content = response.content.decode()
    assert "30 registrations" in content and "Prospect 29" in content and "Prospect 04" not in content
    assert "Globex" not in content
    assert acme_web.get(reverse("portal:deals") + "?page=2").content.decode().count("Prospect 0") == 5
    assert acme_web.get(reverse("portal:deals") + "?status=bogus&page=x").status_code == 200


def test_new_registration_submitted_once_whatever_the_clicks(acme_web, rep):
    page = acme_web.get(reverse("portal:deal_new"))
    assert page.status_code == 200
    token = page.context["form"].initial["form_token"]
    assert token and f'value="{token}"' in page.content.decode()
    data = {**FORM, "form_token": token, "action": "submit"}
    first = acme_web.post(reverse("portal:deal_new"), data)
    second = acme_web.post(reverse("portal:deal_new"), data)  # the double click
    registration = DealRegistration.objects.get()
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"] == reverse("portal:deal_detail", args=[registration.pk])
    assert (registration.status, registration.domain, registration.country) == (Status.SUBMITTED, "example.com",
                                                                                  "DE")
    assert registration.events.count() == 2  # draft, submitted: once
    detail = acme_web.get(first["Location"])
    assert registration.number in detail.content.decode()


def test_save_draft_then_submit_from_the_page(acme_web, acme_member):
    data = {**FORM, "contact_name": "", "form_token": "tok", "action": "submit"}
    refused = acme_web.post(reverse("portal:deal_new"), data)
    assert refused.status_code == 400 and "Enter who you talk to" in refused.content.decode()
    registration = DealRegistration.objects.get()
    assert registration.status == Status.DRAFT  # kept as a draft; the same form completes it
    done = acme_web.post(reverse("portal:deal_new"), {**data, "contact_name": "Bill"})
    assert done.status_code == 302 and DealRegistration.objects.get().status == Status.SUBMITTED


def test_edit_a_returned_registration_and_resubmit(acme_web, acme_member, rep):
    registration = submit(acme_member)
    services.deal_decide(registration=registration, by=rep, decision="return", reason="Which <b>products</b>?")
    page = acme_web.get(reverse("portal:deal_edit", args=[registration.pk]))
    assert "Which &lt;b&gt;products&lt;/b&gt;?" in page.content.decode()
    response = acme_web.post(reverse("portal:deal_edit", args=[registration.pk]),
                             {**FORM, "notes": "X and Y", "action": "submit"})
    assert response.status_code == 302
    registration.refresh_from_db()
    assert (registration.status, registration.notes) == (Status.SUBMITTED, "X and Y")
    # Submitted: no more editing.
    assert acme_web.get(reverse("portal:deal_edit", args=[registration.pk])).status_code == 302


@pytest.mark.parametrize(("field", "value", "message"), [
    ("company", "x" * 201, "at most 200"),
    ("notes", "x" * 5001, "at most 5000"),
    ("domain", "x" * 301, "at most 300"),
    ("domain", "not a domain", "no spaces"),
    ("contact_email", "nope", "valid email"),
    ("amount", "1e20", "digits"),
    ("expected_close", "yesterday", "valid date"),
])
def test_bad_input_is_a_field_error(acme_web, field, value, message):
    response = acme_web.post(reverse("portal:deal_new"), {**FORM, field: value, "form_token": "t1",
                                                          "action": "draft"})
    assert response.status_code == 400 and message in response.content.decode()
    assert not DealRegistration.objects.exists()


def test_html_is_escaped_on_every_page(acme_web, acme_member, rep):
    evil = "<script>alert(1)</script>"
    registration = submit(acme_member, company=evil, contact_name=evil, notes=evil, contact_phone="<b>1</b>")
    staff = logged_in(rep)
    for client, url in [(acme_web, reverse("portal:deals")),
                        (acme_web, reverse("portal:deal_detail", args=[registration.pk])),
                        (staff, reverse("deals:list")),
                        (staff, reverse("deals:detail", args=[registration.pk]))]:
        content = client.get(url).content.decode()
        assert evil not in content and "&lt;script&gt;alert(1)&lt;/script&gt;" in content, url


def test_partner_steps_from_the_page(acme_web, acme_member, rep):
    registration = submit(acme_member)
    services.deal_decide(registration=registration, by=rep, decision="approve", reason="ok")
    detail = reverse("portal:deal_detail", args=[registration.pk])
    assert acme_web.post(reverse("portal:deal_stage", args=[registration.pk]), {"stage": "proposal"})["Location"] \
        == detail
    assert acme_web.post(reverse("portal:deal_stage", args=[registration.pk]), {"stage": "bogus"}).status_code == 400
    assert acme_web.post(reverse("portal:deal_extension", args=[registration.pk]),
                         {"extension-note": "holidays"}).status_code == 302
    again = acme_web.post(reverse("portal:deal_extension", args=[registration.pk]), {"extension-note": ""})
    assert again.status_code == 400 and "already asked" in again.content.decode()
    assert acme_web.post(reverse("portal:deal_lost", args=[registration.pk]), {"reason": ""}).status_code == 400
    assert acme_web.post(reverse("portal:deal_won", args=[registration.pk]), {"won-note": "PO"}).status_code == 302
    registration.refresh_from_db()
    assert (registration.status, registration.stage) == (Status.WON_PENDING, "proposal")
    assert acme_web.post(reverse("portal:deal_lost", args=[registration.pk]),
                         {"reason": "Budget cut"}).status_code == 302
    registration.refresh_from_db()
    assert registration.status == Status.LOST and registration.lead.stage == Lead.Stage.LOST


def test_the_partner_sees_only_the_notice_never_the_other_partner(acme_web, acme_member, globex_admin):
    submit(globex_admin, company="Globex's prospect", domain="example.com")
    token_page = acme_web.get(reverse("portal:deal_new"))
    token = token_page.context["form"].initial["form_token"]
    response = acme_web.post(reverse("portal:deal_new"), {**FORM, "form_token": token, "action": "submit"},
                             follow=True)
    content = response.content.decode()
    assert "A registration for this company already exists" in content
    assert "Globex" not in content


PORTAL_URLS = ["portal:deal_detail", "portal:deal_edit", "portal:deal_submit", "portal:deal_stage",
               "portal:deal_extension", "portal:deal_won", "portal:deal_lost"]


def test_another_partners_registration_is_a_404_on_every_verb(acme_web, globex_admin, other_rep):
    theirs = submit(globex_admin, company="Theirs")
    services.deal_decide(registration=theirs, by=other_rep, decision="approve", reason="ok")
    for name in PORTAL_URLS:
        url = reverse(name, args=[theirs.pk])
        for method in ("get", "post", "put", "delete"):
            response = getattr(acme_web, method)(url, {"stage": "proposal", "reason": "x", **FORM})
            assert response.status_code in (404, 405), (name, method, response.status_code)
            if method in ("get", "post"):
                assert response.status_code == 404, (name, method)
    theirs.refresh_from_db()
    assert (theirs.status, theirs.stage, theirs.company) == (Status.APPROVED, "qualifying", "Theirs")


def test_partner_users_never_reach_the_staff_pages(acme_web, acme_member):
    registration = submit(acme_member)
    assert acme_web.get(reverse("deals:list")).status_code == 404
    assert acme_web.get(reverse("deals:detail", args=[registration.pk])).status_code == 404
    assert acme_web.post(reverse("deals:decide", args=[registration.pk]),
                         {"decision": "approve", "reason": "me"}).status_code == 404
    registration.refresh_from_db()
    assert registration.status == Status.SUBMITTED


def test_staff_never_reach_the_portal_pages(rep, acme_member):
    registration = submit(acme_member)
    staff = logged_in(rep)
    assert staff.get(reverse("portal:deals")).status_code == 404
    assert staff.get(reverse("portal:deal_detail", args=[registration.pk])).status_code == 404


# --- Staff --------------------------------------------------------------------------------------------------------


def test_review_queue_in_five_queries_oldest_first_a_reps_own_first(acme_member, globex_admin, rep, manager,
                                                                     django_assert_num_queries):
    for n in range(12):
        submit(acme_member, company=f"Acme prospect {n:02d}", domain=f"a{n}.example")
    for n in range(12):
        submit(globex_admin, company=f"Globex prospect {n:02d}", domain=f"g{n}.example")
    services.deal_save(member=acme_member, **{**FIELDS, "company": "A draft"})
    client = logged_in(manager)
    DealRegistration.objects.filter(company="Acme prospect 05").update(reviewer=manager)
    with django_assert_num_queries(5):
        # session, user, the visibility check (a manager?), the count with the page's ids, the rows
        response = client.get(reverse("deals:list"))
    content = response.content.decode()
    assert "24 registrations" in content and "A draft" not in content
    # a manager's queue spans every partner: oldest first, on an index (no "mine first" sort of every row)
    assert content.index("Acme prospect 00") < content.index("Acme prospect 05") < content.index("Globex prospect 00")
    # the rep reviews Acme's registrations (its assigned rep); hand all but one to the manager
    DealRegistration.objects.filter(company__startswith="Acme").exclude(company="Acme prospect 07").update(
        reviewer=manager)
    rep_page = logged_in(rep).get(reverse("deals:list")).content.decode()
    assert "12 registrations" in rep_page and "Globex" not in rep_page
    assert rep_page.index("Acme prospect 07") < rep_page.index("Acme prospect 00")  # a rep's own reviews first
    assert client.get(reverse("deals:list") + "?status=approved").status_code == 200
    assert client.get(reverse("deals:list") + "?status=<x>&page=-3").status_code == 200


def test_the_reviewer_sees_conflicts_side_by_side_and_approves(acme_member, globex_admin, rep):
    theirs = submit(globex_admin, company="Initech Holding", domain="initech.com")
    Lead.objects.create(name="Walk-in", company="Initech", email="x@sales.initech.com")
    ours = submit(acme_member, company="Initech")
    client = logged_in(rep)
    page = client.get(reverse("deals:detail", args=[ours.pk])).content.decode()
    assert "This registration" in page and "Globex Resellers" in page and "same domain" in page
    assert "subdomain" in page and reverse("deals:detail", args=[theirs.pk]) in page
    refused = client.post(reverse("deals:decide", args=[ours.pk]), {"decision": "approve", "reason": ""})
    assert refused.status_code == 400
    done = client.post(reverse("deals:decide", args=[ours.pk]), {"decision": "approve", "reason": "Yours"})
    assert done.status_code == 302
    ours.refresh_from_db()
    assert ours.status == Status.APPROVED and ours.lead.partner_id == acme_member.partner_id
    page = client.get(reverse("deals:detail", args=[ours.pk])).content.decode()
    assert reverse("leads:detail", args=[ours.lead_id]) in page
    twice = client.post(reverse("deals:decide", args=[ours.pk]), {"decision": "reject", "reason": "No"})
    assert twice.status_code == 400 and "not waiting for a decision" in twice.content.decode()


def test_staff_extension_and_won(acme_member, rep):
    registration = submit(acme_member)
    services.deal_decide(registration=registration, by=rep, decision="approve", reason="ok")
    services.deal_extension_request(registration=registration, member=acme_member)
    client = logged_in(rep)
    assert "Extension requested" in client.get(reverse("deals:detail", args=[registration.pk])).content.decode()
    assert client.post(reverse("deals:extension", args=[registration.pk]),
                       {"extension-grant": "refuse", "extension-reason": ""}).status_code == 400
    assert client.post(reverse("deals:extension", args=[registration.pk]),
                       {"extension-grant": "grant"}).status_code == 302
    registration.refresh_from_db()
    services.deal_report_won(registration=registration, member=acme_member)
    assert client.post(reverse("deals:confirm_won", args=[registration.pk]), {"value": "-5"}).status_code == 400
    assert client.post(reverse("deals:confirm_won", args=[registration.pk]), {"value": "4500"}).status_code == 302
    registration.refresh_from_db()
    assert registration.status == Status.WON and registration.lead.value == Decimal("4500.00")


STAFF_URLS = ["deals:detail", "deals:decide", "deals:extension", "deals:confirm_won", "deals:refuse_won"]


def test_a_rep_who_does_not_see_the_partner_gets_404_on_every_verb(acme_member, other_rep):
    registration = submit(acme_member)
    draft = services.deal_save(member=acme_member, **{**FIELDS, "company": "Draft"})
    client = logged_in(other_rep)
    for pk in (registration.pk, draft.pk):
        for name in STAFF_URLS:
            url = reverse(name, args=[pk])
            for method in ("get", "post"):
                response = getattr(client, method)(url, {"decision": "approve", "reason": "mine",
                                                         "extension-grant": "grant"})
                assert response.status_code == 404, (name, method, response.status_code)
    registration.refresh_from_db()
    assert registration.status == Status.SUBMITTED
    # A manager sees it, but never a draft.
    assert logged_in(other_rep).get(reverse("deals:list")).status_code == 200


def test_detail_pages_query_budgets(acme_web, acme_member, globex_admin, rep, django_assert_num_queries):
    for n in range(5):
        submit(globex_admin, company=f"Initech {n}", domain=f"s{n}.initech.com")
    registration = submit(acme_member)
    services.deal_decide(registration=registration, by=rep, decision="return", reason="more")
    services.deal_save(member=acme_member, registration=registration, notes="more")
    services.deal_submit(registration=registration, member=acme_member)
    with django_assert_num_queries(7):
        # session, user, membership, the registration (with partner, reviewer), its history, its product lines
        # (issue 17), the bell's count
        assert acme_web.get(reverse("portal:deal_detail", args=[registration.pk])).status_code == 200
    staff = logged_in(rep)
    with django_assert_num_queries(10):
        # session, user, the visibility check, the registration (partner, tier, rep, reviewer, decider, creator,
        # lead), the conflicts (savepoint, SET LOCAL threshold, the statement, release), its history, its product lines
        page = staff.get(reverse("deals:detail", args=[registration.pk]))
    assert page.content.decode().count("Initech ") >= 5
