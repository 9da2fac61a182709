"""prm.choices.ChoiceDisplayMixin answers get_<field>_display() as Django does."""

from activities.models import Activity
from partners.models import Partner


def test_known_values_show_their_label():
    assert Activity(kind="call").get_kind_display() == "Call"
    assert Partner(status="inactive").get_status_display() == "Inactive"


def test_unknown_and_empty_values_show_themselves_as_in_django():
    assert Activity(kind="fax").get_kind_display() == "fax"
    assert Activity(kind="").get_kind_display() == ""
