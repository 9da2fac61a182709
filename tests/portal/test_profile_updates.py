"""Profile updates: the company page (portal.views.company, company_propose), the services
(portal.profile_services), the staff's review (dashboard.profile_update_views) and the emails at each step."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.test import Client

from notifications.models import Notification
from notifications.services import notifications_send_pending_emails
from partners.models import ContactPoint, Location
from portal.models import PortalEvent, ProfileUpdate
from portal.profile_services import profile_update_approve, profile_update_reject, profile_update_submit
from tests import factories

pytestmark = pytest.mark.django_db

COMPANY = "/portal/company/"
PROPOSE = "/portal/company/propose/"


def detail_url(update):
    return f"/profile-updates/{update.pk}/"


@pytest.fixture
def acme_rows(acme):
    acme.notes = "We sell <b>printers</b>."
    acme.save(update_fields=["notes"])
    email = factories.ContactPointFactory(partner=acme, kind="email", value="info@acme.example", is_primary=True)
    phone = factories.ContactPointFactory(partner=acme, kind="phone", value="+49 30 1234567", is_primary=True)
    office = factories.LocationFactory(partner=acme, label="HQ", address="1 Main St", is_primary=True)
    return email, phone, office


def formset_data(prefix, rows, *, initial):
    data = {f"{prefix}-TOTAL_FORMS": str(len(rows)), f"{prefix}-INITIAL_FORMS": str(initial),
            f"{prefix}-MIN_NUM_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "30"}
    for i, row in enumerate(rows):
        for name, value in row.items():
            if value is True:
                value = "on"
            if value is False or value is None:
                continue
            data[f"{prefix}-{i}-{name}"] = value
    return data


def proposal(acme, email, phone, office, *, notes="We sell printers and toner.", extra_contact=None):
    contacts = [
        {"id": email.pk, "partner": acme.pk, "kind": "email", "value": "sales@acme.example", "label": "Sales",
         "is_primary": True, "preferred_channel": ""},
        {"id": phone.pk, "partner": acme.pk, "kind": "phone", "value": "+49 30 1234567", "is_primary": True,
         "preferred_channel": "", "DELETE": True},
    ]
    if extra_contact:
        contacts.append(extra_contact)
    locations = [
        {"id": office.pk, "partner": acme.pk, "label": "HQ", "address": "2 New Road", "latitude": "52.5",
         "longitude": "13.4", "is_primary": True},
        {"partner": acme.pk, "label": "Branch", "address": "3 Side St", "latitude": "", "longitude": ""},
    ]
    return {"notes": notes, **formset_data("contacts", contacts, initial=2),
            **formset_data("locations", locations, initial=1)}


def test_company_page_shows_the_profile_escaped(acme_client, acme, acme_rows):
    response = acme_client.get(COMPANY)
    html = response.content.decode()
    assert response.status_code == 200
    assert "We sell &lt;b&gt;printers&lt;/b&gt;." in html
    assert "info@acme.example" in html and "1 Main St" in html
    assert 'id="propose-link"' in html and 'id="pending-update"' not in html


def test_company_page_query_count(acme_client, acme, acme_rows, django_assert_num_queries):
    for n in range(10):
        factories.ContactPointFactory(partner=acme, kind="mobile", value=f"+49 170 00000{n:02d}")
        factories.LocationFactory(partner=acme, address=f"{n} Street")
    # 1. session, 2. user, 3. membership with partner and tier, 4. the two latest profile updates with their
    # submitter, 5. contacts, 6. locations, 7. the bell's unread count (portal/base.html, portal.templating).
    with django_assert_num_queries(7):
        acme_client.get(COMPANY)


def test_propose_then_approve_applies_everything_and_emails_each_step(
        acme_client, client, acme, acme_admin, acme_member, acme_rows, rep, mailoutbox):
    email, phone, office = acme_rows
    response = acme_client.post(PROPOSE, proposal(acme, email, phone, office))
    assert response.status_code == 302 and response["Location"] == COMPANY
    update = ProfileUpdate.objects.get(partner=acme)
    assert update.status == "pending" and update.submitted_by == acme_admin.user
    assert update.changes["notes"] == "We sell printers and toner."
    assert [c["value"] for c in update.changes["contacts"]] == ["sales@acme.example"]
    assert update.changes["locations"][0]["latitude"] == "52.5"
    # Nothing applied yet; the page says it is waiting.
    acme.refresh_from_db()
    assert acme.notes == "We sell <b>printers</b>." and ContactPoint.objects.filter(partner=acme).count() == 2
    page = acme_client.get(COMPANY).content.decode()
    assert "waiting for approval" in page and 'id="propose-link"' not in page

    # Submitted: the submitter and the rep are notified (and emailed); the colleague sees it in the feed.
    notes = dict(Notification.objects.filter(event="profile_update").values_list("recipient__username", "title"))
    assert set(notes) == {"ada", "rep1"}
    assert "waiting for approval" in notes["ada"] and "to review" in notes["rep1"]
    notifications_send_pending_emails()
    assert sorted(m.to[0] for m in mailoutbox) == ["ada@acme.example", "rep1@example.com"]
    assert PortalEvent.objects.filter(partner=acme, kind="profile", source_key=f"profile:{update.pk}:submitted",
                                      actor=acme_admin.user).exists()

    # The rep sees it on the partner page and reviews it side by side.
    client.force_login(rep)
    partner_page = client.get(f"/partners/{acme.pk}/").content.decode()
    assert 'id="profile-update-pending"' in partner_page and detail_url(update) in partner_page
    review = client.get(detail_url(update))
    assert review.status_code == 200
    html = review.content.decode()
    assert "sales@acme.example" in html and "2 New Road" in html and "We sell &lt;b&gt;printers" in html

    mailoutbox.clear()
    response = client.post(f"{detail_url(update)}approve/")
    assert response.status_code == 302 and response["Location"] == f"/partners/{acme.pk}/"
    update.refresh_from_db()
    assert update.status == "approved" and update.decided_by == rep
    acme.refresh_from_db()
    assert acme.notes == "We sell printers and toner."
    assert list(ContactPoint.objects.filter(partner=acme).values_list("id", "value", "label")) == [
        (email.pk, "sales@acme.example", "Sales")]
    locations = list(Location.objects.filter(partner=acme).order_by("-is_primary", "id"))
    assert [(loc.address, loc.is_primary) for loc in locations] == [("2 New Road", True), ("3 Side St", False)]
    assert locations[0].pk == office.pk and locations[0].latitude == Decimal("52.5")
    notifications_send_pending_emails()
    assert [m.to[0] for m in mailoutbox] == ["ada@acme.example"]
    assert "approved" in mailoutbox[0].subject
    assert PortalEvent.objects.filter(partner=acme, source_key=f"profile:{update.pk}:approved").exists()
    # The colleague's home lists both steps; a second approval changes nothing.
    client.force_login(acme_member.user)
    home = client.get("/portal/").content.decode()
    assert "Profile update approved" in home and "proposed a profile update" in home
    client.force_login(rep)
    client.post(f"{detail_url(update)}approve/")
    assert Notification.objects.filter(event="profile_update").count() == 3


def test_reject_needs_a_reason_and_tells_the_submitter(acme_client, client, acme, acme_admin, acme_rows, rep,
                                                       mailoutbox):
    email, phone, office = acme_rows
    acme_client.post(PROPOSE, proposal(acme, email, phone, office))
    update = ProfileUpdate.objects.get(partner=acme)
    notifications_send_pending_emails()  # the submission's two
    staff = Client()
    staff.force_login(rep)
    response = staff.post(f"{detail_url(update)}reject/", {"reason": "  "})
    assert response.status_code == 400 and ProfileUpdate.objects.get(pk=update.pk).status == "pending"
    response = staff.post(f"{detail_url(update)}reject/", {"reason": "x" * 1001})
    assert response.status_code == 400
    response = staff.post(f"{detail_url(update)}reject/", {"reason": "Use the <i>main</i> number."})
    assert response.status_code == 302
    update.refresh_from_db()
    assert update.status == "rejected" and update.reason == "Use the <i>main</i> number."
    assert ContactPoint.objects.filter(partner=acme).count() == 2  # nothing applied
    mailoutbox.clear()
    notifications_send_pending_emails()
    assert [m.to[0] for m in mailoutbox] == ["ada@acme.example"]
    assert "Use the <i>main</i> number." in mailoutbox[0].body  # plain text part
    html_part = mailoutbox[0].alternatives[0][0] if mailoutbox[0].alternatives else ""
    assert "<i>main</i>" not in html_part
    page = acme_client.get(COMPANY).content.decode()
    assert "Use the &lt;i&gt;main&lt;/i&gt; number." in page and 'id="propose-link"' in page
    # A decided update cannot be decided again.
    with pytest.raises(ValidationError):
        profile_update_approve(update=update, by=rep)


def test_one_pending_update_at_a_time(acme_client, acme, acme_admin, acme_member, acme_rows):
    email, phone, office = acme_rows
    acme_client.post(PROPOSE, proposal(acme, email, phone, office))
    response = acme_client.post(PROPOSE, proposal(acme, email, phone, office, notes="Again"))
    assert response.status_code == 200 and "already waiting for approval" in response.content.decode()
    with pytest.raises(ValidationError):
        profile_update_submit(partner=acme, by=acme_member.user, notes="x", contacts=[], locations=[])
    assert ProfileUpdate.objects.filter(partner=acme).count() == 1
    with pytest.raises(IntegrityError):  # the constraint is the backstop
        ProfileUpdate.objects.create(partner=acme, changes={}, status="pending")


def test_bad_input_gives_field_errors_and_nothing_is_created(acme_client, acme, acme_rows):
    email, phone, office = acme_rows
    cases = [
        proposal(acme, email, phone, office, notes="x" * 5001),
        proposal(acme, email, phone, office, extra_contact={"partner": acme.pk, "kind": "email", "value": "nope"}),
        proposal(acme, email, phone, office, extra_contact={"partner": acme.pk, "kind": "mobile",
                                                            "value": "1" * 300}),
        proposal(acme, email, phone, office, extra_contact={"partner": acme.pk, "kind": "fax", "value": "1"}),
        {**proposal(acme, email, phone, office), "locations-0-latitude": "91"},
        {**proposal(acme, email, phone, office), "contacts-TOTAL_FORMS": "500"},
        {"notes": "no management form"},
    ]
    for data in cases:
        response = acme_client.post(PROPOSE, data)
        assert response.status_code == 200, data
        assert "Nothing was sent" in response.content.decode() or "form-errors" in response.content.decode()
    assert not ProfileUpdate.objects.exists()


def test_html_in_every_field_is_escaped_on_the_review_page(acme_client, client, acme, acme_rows, rep):
    email, phone, office = acme_rows
    data = proposal(acme, email, phone, office, notes="<script>alert(1)</script>")
    data["contacts-0-label"] = "<b>x</b>"
    data["locations-1-address"] = "<img src=x onerror=alert(1)>"
    assert acme_client.post(PROPOSE, data).status_code == 302
    client.force_login(rep)
    html = client.get(detail_url(ProfileUpdate.objects.get())).content.decode()
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<b>x</b>" not in html and "<img src=x" not in html


# --- Isolation ----------------------------------------------------------------------------------------------------------


def test_posting_another_partners_contact_ids_changes_nothing_of_theirs(acme_client, acme, globex, acme_rows):
    email, phone, office = acme_rows
    theirs = factories.ContactPointFactory(partner=globex, kind="email", value="x@globex.example", is_primary=True)
    their_office = factories.LocationFactory(partner=globex, address="Globex HQ", is_primary=True)
    data = proposal(acme, email, phone, office)
    data["contacts-0-id"] = str(theirs.pk)
    data["locations-0-id"] = str(their_office.pk)
    # The inline formsets know only Acme's rows: a foreign id is no row of theirs, so those become new rows of Acme.
    assert acme_client.post(PROPOSE, data).status_code == 302
    update = ProfileUpdate.objects.get(partner=acme)
    assert update.changes["contacts"][0]["id"] is None and update.changes["locations"][0]["id"] is None
    profile_update_reject(update=update, by=acme.assigned_to, reason="test")
    # A hand-made proposal with their ids (bypassing the form) applies to Acme only: unknown ids are new rows.
    update = profile_update_submit(partner=acme, by=acme.assigned_to, notes="n", contacts=[
        {"id": theirs.pk, "kind": "email", "value": "hijack@acme.example", "label": "", "is_primary": True,
         "preferred_channel": ""}], locations=[])
    profile_update_approve(update=update, by=acme.assigned_to)
    theirs.refresh_from_db()
    assert theirs.value == "x@globex.example" and theirs.partner_id == globex.pk
    assert Location.objects.filter(pk=their_office.pk, partner=globex).exists()
    assert list(ContactPoint.objects.filter(partner=acme).values_list("value", flat=True)) == ["hijack@acme.example"]


def test_a_rep_reaches_only_their_partners_updates(client, acme, globex, acme_admin, rep, other_rep, manager):
    update = profile_update_submit(partner=acme, by=acme_admin.user, notes="n", contacts=[], locations=[])
    client.force_login(other_rep)  # Globex's rep
    for suffix in ("", "approve/", "reject/"):
        url = f"{detail_url(update)}{suffix}"
        for method in ("get", "post", "put", "delete"):
            assert getattr(client, method)(url, {"reason": "no"}).status_code == 404
    assert ProfileUpdate.objects.get(pk=update.pk).status == "pending"
    listing = client.get("/profile-updates/").content.decode()
    assert "Acme" not in listing
    assert "Acme Distribution" in _logged(client, rep).get("/profile-updates/").content.decode()
    assert _logged(client, manager).get(detail_url(update)).status_code == 200  # a manager sees every partner


def _logged(client, user):
    client.force_login(user)
    return client


def test_partner_users_never_reach_the_staff_review_pages(acme_client, acme, acme_admin, globex, globex_admin):
    mine = profile_update_submit(partner=acme, by=acme_admin.user, notes="n", contacts=[], locations=[])
    theirs = profile_update_submit(partner=globex, by=globex_admin.user, notes="n", contacts=[], locations=[])
    for update in (mine, theirs):
        for suffix in ("", "approve/", "reject/"):
            for method in ("get", "post", "put", "delete"):
                assert getattr(acme_client, method)(f"{detail_url(update)}{suffix}").status_code == 404
    assert acme_client.get("/profile-updates/").status_code == 404
    assert not ProfileUpdate.objects.exclude(status="pending").exists()


def test_portal_company_pages_show_only_the_members_partner(acme_client, acme, globex, globex_admin):
    factories.ContactPointFactory(partner=globex, kind="email", value="x@globex.example", is_primary=True)
    profile_update_submit(partner=globex, by=globex_admin.user, notes="n", contacts=[], locations=[])
    page = acme_client.get(COMPANY).content.decode()
    assert "x@globex.example" not in page and 'id="pending-update"' not in page
    assert 'id="pending-update"' not in acme_client.get(PROPOSE).content.decode()


def test_review_list_query_count(rep_client, rep, acme, django_assert_num_queries):
    for n in range(15):
        partner = factories.PartnerFactory(assigned_to=rep)
        user = factories.UserFactory()
        update = ProfileUpdate.objects.create(partner=partner, submitted_by=user, changes={})
        if n % 2:
            profile_update_reject(update=update, by=rep, reason="no")
    # 1. session, 2. user, 3. the visibility check (view_all_partners), 4. pending updates with partner and
    # submitter, 5. decided ones with partner, submitter and decider.
    with django_assert_num_queries(5):
        response = rep_client.get("/profile-updates/")
    assert len(response.context["pending"]) == 8 and len(response.context["decided"]) == 7
