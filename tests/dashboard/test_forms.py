"""Add / edit partner: the partner form, contacts and locations inline, profile fields, status and targets."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from business.models import Target
from partners.models import ContactPoint, Location, Partner, StatusChange
from partners.services import partner_save_contacts_and_locations
from tests import factories

pytestmark = pytest.mark.django_db

CREATE_URL = reverse("partners:create")


def edit_url(partner):
    return reverse("partners:edit", args=[partner.pk])


def formset_data(prefix, rows, initial=0):
    data = {f"{prefix}-TOTAL_FORMS": str(len(rows)), f"{prefix}-INITIAL_FORMS": str(initial),
            f"{prefix}-MIN_NUM_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "1000"}
    for index, row in enumerate(rows):
        for key, value in row.items():
            if value is True:
                value = "on"
            if value is False or value is None:
                continue
            data[f"{prefix}-{index}-{key}"] = value
    return data


def partner_data(contacts=(), locations=(), contacts_initial=0, locations_initial=0, **fields):
    data = {"name": "New Partner", "code": "NEW-1", "kind": "organisation", "tier": factories.tier("Gold").pk,
            "status": "active", "status_reason": "", "website": "", "notes": "", "business_potential": ""}
    data.update(fields)
    data.update(formset_data("contacts", contacts, contacts_initial))
    data.update(formset_data("locations", locations, locations_initial))
    return {key: value for key, value in data.items() if value is not None}


def contact_rows(partner):
    return [
        {"id": c.pk, "kind": c.kind, "value": c.value, "label": c.label, "is_primary": c.is_primary}
        for c in partner.contact_points.order_by("id")
    ]


def location_rows(partner):
    return [
        {"id": loc.pk, "label": loc.label, "address": loc.address, "latitude": str(loc.latitude or ""),
         "longitude": str(loc.longitude or ""), "is_primary": loc.is_primary}
        for loc in partner.locations.order_by("id")
    ]


def edit_data(partner, contacts=None, locations=None, **fields):
    base = {"name": partner.name, "code": partner.code, "kind": partner.kind,
            "tier": partner.tier_id or "", "status": partner.status, "status_reason": partner.status_reason}
    base.update(fields)
    existing_contacts = contact_rows(partner)
    existing_locations = location_rows(partner)
    return partner_data(
        contacts=existing_contacts if contacts is None else contacts,
        locations=existing_locations if locations is None else locations,
        contacts_initial=len(existing_contacts),
        locations_initial=len(existing_locations),
        **base,
    )


# --- Create ---------------------------------------------------------------------------------------------------------


def test_create_page_renders_all_parts(rep_client):
    factories.ProfileFieldFactory(key="gst", label="GST number")
    response = rep_client.get(CREATE_URL)
    assert response.status_code == 200
    html = response.content.decode()
    for marker in ('name="name"', 'name="contacts-TOTAL_FORMS"', 'name="locations-TOTAL_FORMS"',
                   'name="profile__gst"', "GST number", 'id="targets"', 'name="status_reason"'):
        assert marker in html, marker
    assert 'name="assigned_to"' not in html  # a rep cannot choose the assignee


def test_create_needs_login(client):
    response = client.post(CREATE_URL, partner_data())
    assert response.status_code == 302 and not Partner.objects.exists()


def test_rep_creates_partner_with_contacts_locations_and_profile(rep_client, rep, other_rep):
    factories.ProfileFieldFactory(key="employees", label="Employees", kind="number")
    data = partner_data(
        contacts=[
            {"kind": "mobile", "value": "+91 98765 43210", "is_primary": True},
            {"kind": "mobile", "value": "+91 90000 00000"},
            {"kind": "email", "value": "hello@new.example", "label": "Office"},
        ],
        locations=[{"label": "Shop", "address": "1 Main Street", "latitude": "12.9", "longitude": "77.6"}],
        assigned_to=other_rep.pk,  # ignored for a rep
        profile__employees="12",
    )
    response = rep_client.post(CREATE_URL, data)
    partner = Partner.objects.get(code="NEW-1")
    assert response.status_code == 302 and response.url == reverse("partners:detail", args=[partner.pk])
    assert partner.assigned_to == rep
    assert partner.profile == {"employees": 12}
    assert partner.engagement_due_at is not None  # Gold: due 14 days after creation
    primaries = {(c.kind, c.value) for c in partner.contact_points.filter(is_primary=True)}
    assert primaries == {("mobile", "+91 98765 43210"), ("email", "hello@new.example")}  # lone email made primary
    assert partner.locations.get().is_primary
    follow = rep_client.get(response.url)
    assert "Partner “New Partner” added." in follow.content.decode()


def test_manager_chooses_the_assignee(manager_client, rep):
    response = manager_client.post(CREATE_URL, partner_data(assigned_to=rep.pk))
    assert response.status_code == 302
    assert Partner.objects.get(code="NEW-1").assigned_to == rep


def test_missing_fields_show_errors_next_to_them_and_save_nothing(rep_client):
    response = rep_client.post(CREATE_URL, partner_data(name="", code=""))
    assert response.status_code == 200
    form = response.context["form"]
    assert "name" in form.errors and "code" in form.errors
    assert "Nothing was saved" in response.content.decode()
    assert not Partner.objects.exists()


def test_two_primary_contacts_of_a_kind_are_refused_with_a_message(rep_client):
    data = partner_data(contacts=[
        {"kind": "mobile", "value": "+91 98765 43210", "is_primary": True},
        {"kind": "mobile", "value": "+91 90000 00000", "is_primary": True},
        {"kind": "email", "value": "a@b.example", "is_primary": True},
    ])
    response = rep_client.post(CREATE_URL, data)
    assert response.status_code == 200
    formset = response.context["contact_formset"]
    assert "Only one Mobile contact can be primary" in str(formset.non_form_errors())
    assert formset.forms[1].errors["is_primary"]  # next to the offending row
    assert not Partner.objects.exists() and not ContactPoint.objects.exists()


def test_two_primary_locations_are_refused(rep_client):
    data = partner_data(locations=[
        {"address": "1 A Road", "is_primary": True}, {"address": "2 B Road", "is_primary": True},
    ])
    response = rep_client.post(CREATE_URL, data)
    assert "Only one location can be primary" in str(response.context["location_formset"].non_form_errors())
    assert not Partner.objects.exists()


def test_contact_values_are_checked_by_kind(rep_client):
    data = partner_data(contacts=[{"kind": "email", "value": "not-an-email"}, {"kind": "mobile", "value": "call me"}])
    response = rep_client.post(CREATE_URL, data)
    formset = response.context["contact_formset"]
    assert formset.forms[0].errors["value"] == ["Enter a valid email address."]
    assert "phone number" in formset.forms[1].errors["value"][0]
    assert not Partner.objects.exists()


def test_latitude_out_of_range_is_a_field_error(rep_client):
    response = rep_client.post(CREATE_URL, partner_data(locations=[{"address": "x", "latitude": "95"}]))
    assert "latitude" in response.context["location_formset"].forms[0].errors
    assert not Partner.objects.exists()


def test_duplicate_code_is_a_field_error(rep_client, rep):
    factories.PartnerFactory(code="NEW-1", assigned_to=rep)
    response = rep_client.post(CREATE_URL, partner_data())
    assert "code" in response.context["form"].errors
    assert Partner.objects.count() == 1


def test_required_profile_field(rep_client):
    factories.ProfileFieldFactory(key="licence", label="Licence", required=True)
    response = rep_client.post(CREATE_URL, partner_data())
    assert "profile__licence" in response.context["form"].errors
    assert not Partner.objects.exists()


def test_create_inactive_needs_a_reason(rep_client):
    response = rep_client.post(CREATE_URL, partner_data(status="inactive"))
    assert "status_reason" in response.context["form"].errors
    response = rep_client.post(CREATE_URL, partner_data(status="inactive", status_reason="Closed for renovation"))
    partner = Partner.objects.get()
    assert (partner.status, partner.status_reason) == ("inactive", "Closed for renovation")


def target_field(code="revenue"):
    """The POST name of this month's target field of a parameter on the partner form."""
    return f"targets-{code}__{timezone.localdate().replace(day=1).isoformat()}"


def test_invalid_targets_form_saves_nothing(rep_client):
    data = partner_data(contacts=[{"kind": "mobile", "value": "+91 98765 43210"}])
    data[target_field()] = "-5"
    response = rep_client.post(CREATE_URL, data)
    assert response.status_code == 200
    assert response.context["targets_form"].errors
    assert not Partner.objects.exists() and not ContactPoint.objects.exists()


def test_failure_while_saving_targets_rolls_everything_back(rep):
    """The service saves the whole form or nothing: a target it refuses undoes the partner, contacts and locations."""
    from business.services import partner_profile_save

    month = timezone.localdate().replace(day=1)
    with pytest.raises(ValidationError):
        partner_profile_save(
            partner=None, by=rep, fields={"code": "NEW-1", "name": "New", "assigned_to": rep}, status="active",
            status_reason="", contacts=[{"kind": "mobile", "value": "+91 98765 43210", "id": None}],
            locations=[{"address": "1 Main St", "id": None}],
            targets={(factories.parameter("revenue").pk, month): Decimal("-1")},
        )
    assert not Partner.objects.exists() and not ContactPoint.objects.exists() and not Location.objects.exists()


def test_targets_form_is_saved_with_the_partner(rep_client, rep):
    data = partner_data()
    data[target_field()] = "5000"
    rep_client.post(CREATE_URL, data)
    target = Target.objects.get(partner__code="NEW-1")
    assert (target.parameter.code, target.value, target.set_by) == ("revenue", Decimal("5000"), rep)


# --- Edit -----------------------------------------------------------------------------------------------------------


@pytest.fixture
def partner(rep):
    return factories.partner_with_contacts(name="Editable", code="ED-1", assigned_to=rep)


def test_edit_page_renders_current_values(rep_client, partner):
    response = rep_client.get(edit_url(partner))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'value="Editable"' in html and 'name="contacts-3-value"' in html
    assert response.context["contact_formset"].total_form_count() == 5  # 4 rows + 1 extra


def test_edit_changes_fields_swaps_primary_and_deletes_a_contact(rep_client, rep, partner):
    rows = contact_rows(partner)
    mobile = next(r for r in rows if r["kind"] == "mobile")
    phone = next(r for r in rows if r["kind"] == "phone")
    whatsapp = next(r for r in rows if r["kind"] == "whatsapp")
    mobile["is_primary"] = False
    rows.append({"kind": "mobile", "value": "+91 77777 77777", "is_primary": True})
    whatsapp["DELETE"] = True
    phone["value"] = "+91 80 9999 9999"
    data = edit_data(partner, contacts=rows, name="Edited Name", tier=factories.tier("Platinum").pk)
    response = rep_client.post(edit_url(partner), data)
    assert response.status_code == 302, response.context and response.context["contact_formset"].errors
    partner.refresh_from_db()
    assert partner.name == "Edited Name" and partner.tier.name == "Platinum"
    assert partner.contact_points.get(kind="mobile", is_primary=True).value == "+91 77777 77777"
    assert not partner.contact_points.filter(kind="whatsapp").exists()
    assert partner.contact_points.get(kind="phone").value == "+91 80 9999 9999"


def test_edit_sets_status_through_the_service(rep_client, rep, partner):
    response = rep_client.post(edit_url(partner), edit_data(partner, status="inactive", status_reason="Moved away"))
    assert response.status_code == 302
    partner.refresh_from_db()
    assert (partner.status, partner.status_reason, partner.status_set_by) == ("inactive", "Moved away", "manual")
    change = StatusChange.objects.get(partner=partner)
    assert (change.from_status, change.to_status, change.changed_by) == ("active", "inactive", rep)


def test_edit_inactive_without_reason_is_refused(rep_client, partner):
    response = rep_client.post(edit_url(partner), edit_data(partner, status="inactive"))
    assert "status_reason" in response.context["form"].errors
    partner.refresh_from_db()
    assert partner.status == "active" and not StatusChange.objects.exists()


def test_edit_keeps_unknown_profile_keys_and_updates_configured_ones(rep_client, partner):
    factories.ProfileFieldFactory(key="founded", label="Founded", kind="date")
    Partner.objects.filter(pk=partner.pk).update(profile={"legacy": "kept", "founded": "1999-01-01"})
    partner.refresh_from_db()
    response = rep_client.post(edit_url(partner), edit_data(partner, profile__founded="2001-02-03"))
    assert response.status_code == 302
    partner.refresh_from_db()
    assert partner.profile == {"legacy": "kept", "founded": "2001-02-03"}


def test_edit_with_errors_changes_nothing(rep_client, partner):
    before = contact_rows(partner)
    rows = contact_rows(partner)
    for row in rows:
        row["is_primary"] = row["kind"] == "phone" or row["is_primary"]
    rows.append({"kind": "phone", "value": "+91 80 1111 1111", "is_primary": True})  # second primary phone
    response = rep_client.post(edit_url(partner), edit_data(partner, contacts=rows, name="Should not stick"))
    assert response.status_code == 200
    assert "Only one Phone contact can be primary" in response.content.decode()
    assert "Edit Editable" in response.content.decode()
    partner.refresh_from_db()
    assert partner.name == "Editable" and contact_rows(partner) == before


def test_rep_cannot_reassign_by_posting_assigned_to(rep_client, rep, other_rep, partner):
    rep_client.post(edit_url(partner), edit_data(partner, assigned_to=other_rep.pk))
    partner.refresh_from_db()
    assert partner.assigned_to == rep


def test_manager_reassigns(manager_client, other_rep, partner):
    response = manager_client.post(edit_url(partner), edit_data(partner, assigned_to=other_rep.pk))
    assert response.status_code == 302
    partner.refresh_from_db()
    assert partner.assigned_to == other_rep


@pytest.mark.parametrize("method", ["get", "post"])
def test_another_reps_partner_cannot_be_edited(rep_client, other_rep, method):
    theirs = factories.partner_with_contacts(name="Theirs", code="TH-1", assigned_to=other_rep)
    before = (contact_rows(theirs), location_rows(theirs))
    data = edit_data(theirs, contacts=[], locations=[], name="Hijacked", status="inactive", status_reason="x")
    response = getattr(rep_client, method)(edit_url(theirs), data if method == "post" else None)
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.name == "Theirs" and theirs.status == "active"
    assert (contact_rows(theirs), location_rows(theirs)) == before


def test_edit_cannot_touch_rows_of_another_partner_through_ids(rep_client, rep, other_rep, partner):
    theirs = factories.partner_with_contacts(assigned_to=other_rep)
    foreign = theirs.contact_points.first()
    before = contact_rows(theirs)
    rows = contact_rows(partner)
    rows[0]["id"] = foreign.pk
    rows[0]["value"] = "+91 12345 67890"
    rep_client.post(edit_url(partner), edit_data(partner, contacts=rows))
    # An id that is not one of this partner's rows is treated as a new row of this partner, never as the other one.
    assert contact_rows(theirs) == before
    assert partner.contact_points.filter(value="+91 12345 67890").exists()


# --- Service --------------------------------------------------------------------------------------------------------


def test_save_contacts_replaces_the_list_and_swaps_primaries(rep):
    partner = factories.partner_with_contacts(assigned_to=rep)
    old_mobile = partner.contact_points.get(kind="mobile", is_primary=True)
    partner_save_contacts_and_locations(
        partner=partner,
        contacts=[
            {"id": old_mobile.pk, "kind": "mobile", "value": old_mobile.value, "label": "", "is_primary": False},
            {"id": None, "kind": "mobile", "value": "+1 555 0100", "label": "New", "is_primary": True},
        ],
    )
    assert list(partner.contact_points.order_by("id").values_list("value", "is_primary")) == [
        (old_mobile.value, False), ("+1 555 0100", True),
    ]
    assert partner.locations.count() == 1  # locations=None leaves them alone
