"""A double tap on a form's button sends it once (static/js/app.js): the second submit of a POST form that is being
sent is ignored, so "New lead" tapped twice makes one lead. The form is sent into a hidden frame so that the page
stays put and the second tap lands on the same form, as it does on a slow phone network."""

import pytest

from leads.models import Lead
from tests import factories
from tests.browser.conftest import login


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_new_lead_tapped_twice_makes_one_lead(page, live_server):
    rep = factories.rep_user(username="double-tap")
    partner = factories.PartnerFactory(name="Double Tap Traders", assigned_to=rep)
    page.set_viewport_size({"width": 390, "height": 844})
    login(page, live_server, rep)
    page.goto(f"{live_server.url}/leads/new/?partner={partner.pk}")
    page.fill("#id_name", "Only once")
    posts = []
    page.on("request", lambda request: posts.append(request.url) if request.method == "POST" else None)
    page.evaluate("""() => {
        const frame = document.createElement("iframe");
        frame.name = "sink";
        document.body.appendChild(frame);
        document.querySelector("main button[type=submit].primary").form.target = "sink";
    }""")
    button = page.locator("main button[type=submit].primary")
    button.click()
    page.wait_for_timeout(150)
    button.click()  # the second tap
    page.wait_for_timeout(1500)
    assert len(posts) == 1
    assert list(Lead.objects.filter(name="Only once").values_list("partner_id", flat=True)) == [partner.pk]

    # A form that the page shows again (Back, or the browser's cached page) can be sent again.
    page.evaluate("window.dispatchEvent(new PageTransitionEvent('pageshow'))")
    button.click()
    page.wait_for_timeout(1500)
    assert len(posts) == 2
