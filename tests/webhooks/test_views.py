"""/settings/webhooks/ (webhooks.views): managers' pages, query counts, 404 for reps and for others' endpoints."""

import re

import pytest
from django.urls import reverse

from tests import factories
from webhooks import crypto
from webhooks.models import Delivery, Endpoint
from webhooks.services import endpoint_send_test

pytestmark = pytest.mark.django_db
URL = "/settings/webhooks/"


def test_reps_and_anonymous_cannot_reach_it(client, rep, allow_private):
    assert client.get(URL).status_code == 302  # to the login page
    client.force_login(rep)
    assert client.get(URL).status_code == 404
    assert client.post(URL, {"url": "http://127.0.0.1:9/h"}).status_code == 404
    assert not Endpoint.objects.exists()
    assert 'href="/settings/webhooks/"' not in client.get("/today/").content.decode()  # not in a rep's menu


def test_a_rep_gets_404_on_every_verb_of_an_endpoint(client, rep, make_endpoint):
    endpoint, _ = make_endpoint()
    delivery = endpoint_send_test(endpoint=endpoint, by=endpoint.owner)
    client.force_login(rep)
    for name, args in [("detail", [endpoint.pk]), ("rotate", [endpoint.pk]), ("delete", [endpoint.pk]),
                       ("test", [endpoint.pk]), ("resend", [endpoint.pk, delivery.pk])]:
        assert client.post(reverse(f"webhooks:{name}", args=args)).status_code == 404
    assert client.get(reverse("webhooks:detail", args=[endpoint.pk])).status_code == 404
    assert Endpoint.objects.filter(pk=endpoint.pk).exists()


def test_manager_creates_an_endpoint_and_sees_the_secret_once(manager_client, manager, allow_private):
    response = manager_client.post(URL, {"url": "http://127.0.0.1:9/hook", "description": "BI <sync>",
                                         "events": ["lead.created", "deal.decided"]})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    html = response.content.decode()
    secret = re.search(r'value="(whsec_[^"]+)"', html).group(1)
    endpoint = Endpoint.objects.get()
    assert endpoint.owner == manager and crypto.decrypt(endpoint.secret_encrypted) == secret
    assert endpoint.events == ["lead.created", "deal.decided"]
    assert "BI &lt;sync&gt;" in html and "BI <sync>" not in html
    for page in (URL, reverse("webhooks:detail", args=[endpoint.pk])):
        assert secret not in manager_client.get(page).content.decode()
    assert 'href="/settings/webhooks/"' in manager_client.get("/today/").content.decode()  # in the account menu


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"url": ""}, "url", "required"),
    ({"url": "ftp://example.com/x"}, "url", "https://"),
    ({"url": "http://127.0.0.1:9/x"}, "url", "public addresses"),  # the setting is off here
    ({"url": "http://localhost/x"}, "url", "public addresses"),
    ({"url": "https://93.184.216.34/x", "events": ["root.write"]}, "events", "valid choice"),
    ({"url": "https://93.184.216.34/x", "description": "x" * 201}, "description", "200"),
])
def test_bad_input_is_a_field_error(manager_client, settings, data, field, message):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False
    response = manager_client.post(URL, data)
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert message in " ".join(errors.get(field, [])), errors
    assert not Endpoint.objects.exists()


def test_list_shows_only_my_endpoints_in_constant_queries(manager_client, manager, make_endpoint,
                                                         django_assert_num_queries):
    for number in range(6):
        make_endpoint(owner=manager, description=f"mine {number}")
    make_endpoint(owner=factories.manager_user(username="other-mgr"), description="not mine")
    # 1. the session, 2. the user, 3. may they see every partner (managers only), 4. the endpoints with their owners
    with django_assert_num_queries(4):
        page = manager_client.get(URL).content.decode()
    assert page.count("mine ") == 6 and "not mine" not in page


def test_admins_see_every_endpoint(client, make_endpoint):
    make_endpoint(owner=factories.manager_user(username="m1"), description="first one")
    make_endpoint(owner=factories.manager_user(username="m2"), description="second one")
    client.force_login(factories.UserFactory(username="root", is_superuser=True, is_staff=True))
    page = client.get(URL).content.decode()
    assert "first one" in page and "second one" in page


def test_detail_and_delivery_log_in_constant_queries(manager_client, manager, make_endpoint,
                                                    django_assert_num_queries):
    endpoint, _ = make_endpoint(owner=manager)
    for _ in range(30):
        endpoint_send_test(endpoint=endpoint, by=manager)
    Delivery.objects.filter(endpoint=endpoint).update(state="failed", attempts=8, last_status=500,
                                                      last_error="HTTP 500 <b>")
    url = reverse("webhooks:detail", args=[endpoint.pk])
    # 1. session, 2. user, 3. manager check, 4. the endpoint with its owner, 5. one page of its log (26 rows read)
    with django_assert_num_queries(5):
        response = manager_client.get(url)
    html = response.content.decode()
    assert html.count("Send again") == 25 and "HTTP 500 &lt;b&gt;" in html and 'rel="next"' in html
    newest = Delivery.objects.filter(endpoint=endpoint).order_by("-id").first()
    assert html.index(newest.message_id) < html.index("Send again")
    with django_assert_num_queries(5):
        second = manager_client.get(url + "?page=2").content.decode()
    assert second.count("Send again") == 5 and 'rel="prev"' in second
    assert manager_client.get(url + "?page=abc").status_code == 200


def test_others_endpoints_are_404_for_a_manager(manager_client, manager, make_endpoint):
    endpoint, _ = make_endpoint(owner=factories.manager_user(username="someone-else"))
    delivery = endpoint_send_test(endpoint=endpoint, by=endpoint.owner)
    assert manager_client.get(reverse("webhooks:detail", args=[endpoint.pk])).status_code == 404
    for name, args in [("detail", [endpoint.pk]), ("rotate", [endpoint.pk]), ("delete", [endpoint.pk]),
                       ("test", [endpoint.pk]), ("resend", [endpoint.pk, delivery.pk])]:
        assert manager_client.post(reverse(f"webhooks:{name}", args=args)).status_code == 404
    assert Endpoint.objects.filter(pk=endpoint.pk).exists()
    # a delivery of my endpoint addressed through another endpoint's URL: 404 too
    mine, _ = make_endpoint(owner=manager)
    assert manager_client.post(reverse("webhooks:resend", args=[mine.pk, delivery.pk])).status_code == 404


def test_edit_rotate_test_send_again_and_delete(manager_client, manager, make_endpoint):
    endpoint, old_secret = make_endpoint(owner=manager)
    url = reverse("webhooks:detail", args=[endpoint.pk])
    response = manager_client.post(url, {"url": endpoint.url, "description": "renamed", "events": ["lead.created"]})
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert (endpoint.description, endpoint.events, endpoint.is_active) == ("renamed", ["lead.created"], False)
    assert "Switched off by" in endpoint.disabled_reason
    # a switched-off endpoint gets no test event: a message, not an error page
    response = manager_client.post(reverse("webhooks:test", args=[endpoint.pk]), follow=True)
    assert "Switch the endpoint on first" in response.content.decode()
    assert manager_client.post(url, {"url": endpoint.url, "events": [], "is_active": "on"}).status_code == 302
    response = manager_client.post(reverse("webhooks:test", args=[endpoint.pk]), follow=True)
    assert "Test event msg_" in response.content.decode()
    delivery = Delivery.objects.get(endpoint=endpoint)
    Delivery.objects.filter(pk=delivery.pk).update(state="failed", attempts=8)
    assert manager_client.post(reverse("webhooks:resend", args=[endpoint.pk, delivery.pk])).status_code == 302
    delivery.refresh_from_db()
    assert delivery.state == "pending" and delivery.attempts == 0
    response = manager_client.post(reverse("webhooks:rotate", args=[endpoint.pk]))
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    new_secret = re.search(r'value="(whsec_[^"]+)"', response.content.decode()).group(1)
    endpoint.refresh_from_db()
    assert new_secret != old_secret and crypto.decrypt(endpoint.secret_encrypted) == new_secret
    assert manager_client.get(reverse("webhooks:rotate", args=[endpoint.pk])).status_code == 405
    assert manager_client.post(reverse("webhooks:delete", args=[endpoint.pk])).status_code == 302
    assert not Endpoint.objects.exists() and not Delivery.objects.exists()


def test_edit_refuses_a_private_url_when_the_setting_is_off(manager_client, manager, make_endpoint, settings):
    endpoint, _ = make_endpoint(owner=manager)
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False
    response = manager_client.post(reverse("webhooks:detail", args=[endpoint.pk]),
                                   {"url": "http://10.1.2.3/hook", "is_active": "on"})
    assert response.status_code == 400
    assert "public addresses" in " ".join(response.context["form"].errors["url"])
    endpoint.refresh_from_db()
    assert endpoint.url.startswith("http://127.0.0.1:")


def test_admin_is_read_only(client, make_endpoint):
    endpoint, _ = make_endpoint()
    client.force_login(factories.UserFactory(username="root", is_superuser=True, is_staff=True))
    assert client.get("/admin/webhooks/endpoint/").status_code == 200
    page = client.get(f"/admin/webhooks/endpoint/{endpoint.pk}/change/").content.decode()
    assert endpoint.secret_encrypted not in page
    assert client.get("/admin/webhooks/endpoint/add/").status_code == 403
    assert client.get("/admin/webhooks/delivery/").status_code == 200
