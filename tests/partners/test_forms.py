"""partners.forms: inputs that bring up the right keyboard on a phone."""

import pytest

from dashboard.forms import PartnerEditForms
from partners.forms import ContactPointForm
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("kind", "input_type", "inputmode"), [
    ("phone", "tel", "tel"), ("mobile", "tel", "tel"), ("whatsapp", "tel", "tel"), ("email", "email", "email"),
    ("wechat", "text", "text"), (None, "text", "text"),
])
def test_contact_value_input_follows_the_kind(kind, input_type, inputmode):
    form = ContactPointForm(initial={"kind": kind} if kind else {})
    html = str(form["value"])
    assert f'type="{input_type}"' in html and f'inputmode="{inputmode}"' in html
    assert html.count("type=") == 1
    assert "data-contact-kind" in str(form["kind"])


def test_a_posted_kind_decides_the_input_type_when_the_form_comes_back_with_errors():
    form = ContactPointForm(data={"kind": "email", "value": "not an address"})
    assert not form.is_valid()
    assert 'type="email"' in str(form["value"])


def test_saved_contacts_and_numbers_on_the_partner_form(rep):
    partner = factories.partner_with_contacts(assigned_to=rep)
    forms = PartnerEditForms(None, user=rep, partner=partner)
    rows = {f.instance.kind: str(f["value"]) for f in forms.contacts.forms if f.instance.pk}
    assert rows and all(('type="email"' if kind == "email" else 'type="tel"') in html
                        for kind, html in rows.items() if kind != "wechat")
    assert 'type="number"' in str(forms.form["business_potential"])
