"""Templates ready for translation: Jinja2's i18n extension on Django's gettext (prm/jinja2.py), LocaleMiddleware,
English shipped; a catalogue made the documented way (Babel, babel.cfg) translates the pages."""

import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from django.conf import settings
from django.template import engines
from django.utils import translation

pytestmark = pytest.mark.django_db
BASE = Path(settings.BASE_DIR)


def test_english_is_shipped_and_the_page_says_so(client):
    assert "django.middleware.locale.LocaleMiddleware" in settings.MIDDLEWARE
    assert settings.MIDDLEWARE.index("django.middleware.locale.LocaleMiddleware") == (
        settings.MIDDLEWARE.index("django.contrib.sessions.middleware.SessionMiddleware") + 1
    )
    assert settings.LANGUAGES == [("en", "English")] and settings.USE_I18N
    response = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="fr")  # not offered: English
    html = response.content.decode()
    assert '<html lang="en">' in html and ">Log in</button>" in html
    assert response["Content-Language"] == "en"


def test_jinja2_templates_use_djangos_gettext():
    template = engines["jinja2"].from_string(
        "{{ _('Log in') }}|{% trans %}Partners{% endtrans %}|{{ _('%(n)s left', n=3) }}|{{ _('<b>%(x)s</b>', x='<i>') }}"
    )
    with translation.override("en"):
        assert template.render({}) == "Log in|Partners|3 left|<b>&lt;i&gt;</b>"  # newstyle: arguments escaped


def test_a_catalogue_extracted_with_babel_translates_the_pages(client, settings, tmp_path):
    """The README's workflow: ``pybabel extract -F babel.cfg`` finds the templates' strings; a compiled catalogue
    under LOCALE_PATHS, with the language in LANGUAGES, translates the login page for a browser asking for it."""
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", str(BASE / "babel.cfg"), "--no-location",
         "-o", str(pot), "."],
        check=True, capture_output=True, cwd=BASE,
    )
    with pot.open("rb") as handle:
        catalog = read_po(handle)
    for msgid in ("Log in", "Partners", "Page not found", "Show older", "Notifications"):
        assert msgid in catalog, msgid
    catalog.locale = "fr"
    catalog["Log in"].string = "Connexion"
    mo = tmp_path / "fr" / "LC_MESSAGES" / "django.mo"
    mo.parent.mkdir(parents=True)
    with mo.open("wb") as handle:
        write_mo(handle, catalog)
    settings.LANGUAGES = [("en", "English"), ("fr", "Français")]
    settings.LOCALE_PATHS = [str(tmp_path)]
    html = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert '<html lang="fr">' in html and ">Connexion</button>" in html
