"""The development mailbox (/dev/mailbox/): lists what Django's file email backend wrote, shows one message safely,
and does not exist with DEBUG off."""

import pytest
from django.core.mail import EmailMultiAlternatives, get_connection
from django.urls import reverse

from devtools.mailbox import mailbox_message_get, mailbox_messages

FILE_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
HOSTILE_HTML = '<p class="x">Call <b>Anand</b> at 15:00</p><script>alert("owned")</script><img src=x onerror="alert(1)">'


@pytest.fixture
def mail_folder(tmp_path, settings):
    settings.EMAIL_FILE_PATH = tmp_path
    settings.DEBUG = True
    return tmp_path


def _send(folder, *messages):
    """Send through Django's real file backend, one connection for all (so one file holds them all)."""
    with get_connection(FILE_BACKEND, file_path=str(folder)) as connection:
        return connection.send_messages(list(messages))


def _message(subject, to, text, html=None):
    message = EmailMultiAlternatives(subject, text, "PRM <prm@localhost>", [to])
    if html:
        message.attach_alternative(html, "text/html")
    return message


@pytest.fixture
def two_messages(mail_folder):
    reminder = _message("Reminder: call Anand Distributors", "rep1@example.com",
                        "Call Anand at 15:00\n" + "-" * 79 + "\nhttps://prm.example.com/partners/1/", HOSTILE_HTML)
    reminder.attach("invite.ics", "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", "text/calendar")
    digest = _message("Your day: 3 calls", "rep1@example.com", "Today: 3 calls")
    assert _send(mail_folder, reminder, digest) == 2
    return mail_folder


def test_the_reader_splits_a_file_of_two_messages_newest_first(two_messages):
    files = list(two_messages.iterdir())
    assert len(files) == 1  # Django's file backend: one file per connection
    digest, reminder = mailbox_messages(folder=two_messages)
    assert digest.subject == "Your day: 3 calls" and digest.index == 1
    assert reminder.subject == "Reminder: call Anand Distributors" and reminder.index == 0
    assert reminder.to == "rep1@example.com" and reminder.sender == "PRM <prm@localhost>"
    # A line of dashes inside a body does not split the message.
    assert reminder.text == "Call Anand at 15:00\n" + "-" * 79 + "\nhttps://prm.example.com/partners/1/"
    assert reminder.html.startswith('<p class="x">Call <b>Anand</b>')
    assert reminder.attachments == ("invite.ics",)
    assert mailbox_message_get(folder=two_messages, file_name=files[0].name, index=1) == digest


@pytest.mark.parametrize("name", ["../secret.log", "x.txt", "..", "nope.log"])
def test_the_reader_opens_only_mail_files_of_its_folder(two_messages, name):
    (two_messages.parent / "secret.log").write_bytes(b"Content-Type: text/plain\n\nsecret\n")
    assert mailbox_message_get(folder=two_messages, file_name=name, index=0) is None


def test_the_reader_of_a_missing_folder_is_empty(tmp_path):
    assert mailbox_messages(folder=tmp_path / "never-written") == []


@pytest.mark.django_db
def test_the_mailbox_lists_the_messages_newest_first(rep_client, two_messages, django_assert_num_queries):
    with django_assert_num_queries(2):
        # 1. the session  2. the user — the messages are files
        response = rep_client.get(reverse("devtools:mailbox"))
    assert response.status_code == 200
    page = response.content.decode()
    assert page.index("Your day: 3 calls") < page.index("Reminder: call Anand Distributors")
    assert "To rep1@example.com" in page
    assert "invite.ics" in page
    assert response["Cache-Control"].startswith("max-age=0")


@pytest.mark.django_db
def test_a_message_shows_its_html_sandboxed_and_its_text_escaped(rep_client, two_messages):
    file_name = next(two_messages.iterdir()).name
    response = rep_client.get(reverse("devtools:mailbox_message", args=[file_name, 0]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "<h1 class=\"mail-title\">Reminder: call Anand Distributors</h1>" in page
    # The HTML part is the srcdoc of a sandboxed iframe (no scripts, no same-origin): one escaped attribute value.
    assert '<iframe class="mail-html" title="HTML part" sandbox srcdoc="&lt;p class=&#34;x&#34;&gt;Call' in page
    assert "<script>alert" not in page and 'onerror="alert' not in page
    assert "https://prm.example.com/partners/1/" in page  # the text part, as text


@pytest.mark.django_db
def test_unknown_messages_are_404(rep_client, two_messages):
    file_name = next(two_messages.iterdir()).name
    assert rep_client.get(reverse("devtools:mailbox_message", args=[file_name, 2])).status_code == 404
    assert rep_client.get(reverse("devtools:mailbox_message", args=["other.log", 0])).status_code == 404
    assert rep_client.get("/dev/mailbox/..%2Fsecret.log/0/").status_code == 404


@pytest.mark.django_db
def test_signing_in_is_required(client, two_messages):
    response = client.get(reverse("devtools:mailbox"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.django_db
@pytest.mark.parametrize("signed_in", [True, False])
def test_with_debug_off_the_mailbox_does_not_exist(client, rep, two_messages, settings, signed_in):
    settings.DEBUG = False
    if signed_in:
        client.force_login(rep)
    file_name = next(two_messages.iterdir()).name
    assert client.get(reverse("devtools:mailbox")).status_code == 404
    assert client.get(reverse("devtools:mailbox_message", args=[file_name, 0])).status_code == 404
