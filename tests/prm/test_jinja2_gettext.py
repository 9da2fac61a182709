"""The pages' fast newstyle gettext (prm/jinja2.py) gives what Jinja2's own newstyle gettext gives."""

from django.template import engines


def _render(source: str, **context: object) -> str:
    return engines["jinja2"].from_string(source).render(context)


def test_plain_strings_are_trusted_text():
    assert _render('{{ _("Partners") }}') == "Partners"


def test_variables_are_escaped_into_the_string():
    assert _render('{{ _("By %(name)s", name=who) }}', who="<b>Ann</b>") == "By &lt;b&gt;Ann&lt;/b&gt;"


def test_a_percent_sign_is_a_format_string_as_in_newstyle():
    assert _render('{{ _("100%% done") }}') == "100% done"


def test_plurals_have_num():
    template = '{{ ngettext("%(num)s partner", "%(num)s partners", n) }}'
    assert _render(template, n=1) == "1 partner"
    assert _render(template, n=3) == "3 partners"


def test_trans_blocks_use_the_same_functions():
    assert _render("{% trans n=2 %}{{ n }} calls{% endtrans %}") == "2 calls"
