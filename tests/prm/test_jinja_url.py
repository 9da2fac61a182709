"""``url()`` in templates: the cached integer path gives exactly Django's ``reverse`` for every named URL."""

import pytest
from django.urls import NoReverseMatch, get_resolver, reverse

from prm.jinja2 import url


def _all_names() -> list[tuple[str, int]]:
    """Every namespaced URL name with the number of positional arguments it takes."""
    found: list[tuple[str, int]] = []

    def walk(resolver, namespace: str) -> None:
        for key in resolver.reverse_dict:
            if isinstance(key, str):
                for possibility, _pattern, _defaults, _converters in resolver.reverse_dict.getlist(key):
                    for _result, params in possibility:
                        found.append((f"{namespace}{key}", len(params)))
        for ns, (_prefix, sub) in resolver.namespace_dict.items():
            walk(sub, f"{namespace}{ns}:")

    walk(get_resolver(), "")
    return found


def test_url_matches_reverse_for_every_named_url_with_integer_arguments():
    names = _all_names()
    assert len(names) > 50
    checked = 0
    for name, arity in names:
        args = [7, 12345, 3, 99][:arity]
        try:
            expected = reverse(name, args=args or None)
        except NoReverseMatch:
            with pytest.raises(NoReverseMatch):
                url(name, *args)
            continue
        assert url(name, *args) == expected, name
        assert url(name, *args) == expected, name  # the cached path too
        checked += 1
    assert checked > 50


def test_url_falls_back_to_reverse_for_keywords_strings_and_negative_numbers():
    assert url("partners:detail", pk=5) == reverse("partners:detail", kwargs={"pk": 5})
    assert url("partners:detail", 42) == "/partners/42/"
    with pytest.raises(NoReverseMatch):
        url("partners:detail", -1)
    with pytest.raises(NoReverseMatch):
        url("partners:detail", "x")
