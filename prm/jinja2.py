"""The Jinja2 environment of the app's pages (templates in ``jinja2/``; the admin keeps Django's template language).

Why Jinja2: the partner list and page are rendered on every request, and Django's template language spent more than
half of their CPU there (~20 ms of a 38 ms list request, docs/benchmarks.md); Jinja2 compiles templates to Python
and renders the same rows in a fraction of that. Formatting lives in one place, ``prm.formats``, registered here.

The backend also sends Django's ``template_rendered`` signal, which Django's test client listens to, so tests keep
``response.context`` and ``response.templates`` (Django's own Jinja2 backend does not send it). Apps register their
template helpers in ``settings.JINJA2_HELPERS``: modules with ``GLOBALS`` and ``FILTERS`` dicts, loaded by name
like Django's template tag libraries, so this layer-0 module imports no app.
"""

from functools import lru_cache
from importlib import import_module

from django.conf import settings
from django.template.backends.jinja2 import Jinja2, Template
from django.templatetags.static import static
from django.test.signals import template_rendered
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils import translation
from django.utils.html import json_script
from markupsafe import Markup

from jinja2 import Environment
from prm import formats

_SENTINELS = (987654301, 987654302, 987654303, 987654304)


@lru_cache(maxsize=1024)
def _url_pieces(name: str, arity: int, urlconf: str | None, prefix: str) -> tuple[str, ...] | None:
    """The URL of ``name`` cut around ``arity`` integer arguments: reversed once with sentinel numbers, then split
    at them; None when the pattern does not take them exactly once each (then ``url`` reverses every time)."""
    try:
        text = reverse(name, args=_SENTINELS[:arity] or None, urlconf=urlconf)
    except NoReverseMatch:
        return None
    pieces: list[str] = []
    for sentinel in _SENTINELS[:arity]:
        before, found, text = text.partition(str(sentinel))
        if not found or str(sentinel) in text:
            return None
        pieces.append(before)
    return (*pieces, text)


def url(name: str, *args: object, **kwargs: object) -> str:
    """``{{ url('partners:detail', partner.pk) }}``: Django's ``reverse``.

    Pages call it per row (Today: ~240 links), and ``reverse`` costs ~40 µs a call; with up to four integer
    arguments and no keywords the pattern is reversed once per process (per URLconf and script prefix) and the numbers
    are put in its place, which gives the same string: our id segments are ``<int:…>`` converters."""
    if not kwargs and len(args) <= len(_SENTINELS) and all(type(a) is int and a >= 0 for a in args):
        pieces = _url_pieces(name, len(args), get_urlconf(), get_script_prefix())
        if pieces is not None:
            return "".join(piece + str(arg) for piece, arg in zip(pieces, args, strict=False)) + pieces[-1]
    return reverse(name, args=args or None, kwargs=kwargs or None)


@lru_cache(maxsize=4096)
def _translated(language: str | None, message: str) -> Markup:
    return Markup(translation.gettext(message))  # noqa: S704 (the app's own strings and catalogues, as newstyle gettext)


def gettext(message: str, **variables: object) -> Markup:
    """``{{ _("Partners") }}``, ``{{ _("By %(name)s", name=user.name) }}``: Jinja2's "newstyle" gettext (the text is
    trusted, the variables are escaped into it), made cheap for pages that ask for ~150 strings per request.

    Jinja2's own wrapper called Django's gettext through the template context and formatted every string with
    ``Markup % {}`` (~1.5 ms of a partner page's CPU, docs/benchmarks.md); here the translation is remembered per
    (active language, message) — catalogues do not change while a process runs — and only strings holding a ``%``
    are formatted (the same result: a string without ``%`` formats to itself). The environment always autoescapes
    (Django's backend sets it), so the result is always Markup, as the newstyle wrapper's is.
    """
    text = _translated(translation.get_language(), message)
    return text % variables if "%" in text else text


def ngettext(singular: str, plural: str, num: int, **variables: object) -> Markup:
    """The plural form, newstyle: ``num`` is available to the string as ``%(num)s``."""
    variables.setdefault("num", num)
    return Markup(translation.ngettext(singular, plural, num)) % variables  # noqa: S704 (as above; variables escaped)


def environment(**options: object) -> Environment:
    # i18n: ``_("…")``, ``{% trans %}…{% endtrans %}`` use Django's translation (LocaleMiddleware picks the language;
    # English is shipped). "newstyle" gettext escapes and formats: ``_("%(n)s partners", n=count)``.
    extensions = [*options.pop("extensions", ()), "jinja2.ext.i18n"]
    env = Environment(extensions=extensions, **options)  # noqa: S701 (autoescape is on: Django's backend sets it)
    env.install_gettext_callables(
        translation.gettext,
        translation.ngettext,
        newstyle=True,
        pgettext=translation.pgettext,
        npgettext=translation.npgettext,
    )
    env.globals.update(_=gettext, gettext=gettext, ngettext=ngettext)  # the fast newstyle pair (see gettext)
    env.globals.update(static=static, url=url, current_language=translation.get_language)
    env.filters.update(json_script=json_script, **formats.FILTERS)
    for path in getattr(settings, "JINJA2_HELPERS", ()):
        module = import_module(path)
        env.globals.update(getattr(module, "GLOBALS", {}))
        env.filters.update(getattr(module, "FILTERS", {}))
    return env


class _SignallingTemplate(Template):
    def render(self, context=None, request=None):
        # Before rendering, as Django's own instrumented templates do: the page's context comes before the contexts of
        # the widget templates rendered inside it.
        template_rendered.send(sender=self, template=self, context=context or {})
        return super().render(context, request)

    @property
    def name(self) -> str:
        return self.template.name


class Jinja2Backend(Jinja2):
    """Django's Jinja2 backend whose templates send ``template_rendered`` (see the module docstring)."""

    def get_template(self, template_name):
        template = super().get_template(template_name)
        return _SignallingTemplate(template.template, self)

    def from_string(self, template_code):
        return _SignallingTemplate(self.env.from_string(template_code), self)
