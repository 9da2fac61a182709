"""Fast ``get_<field>_display()`` for models with choice fields.

Django's ``Model._get_FIELD_display`` rebuilds a dict of the field's choices (``dict(make_hashable(flatchoices))``)
on every call; a partner page calls it ~70 times (kinds, states, stages of every listed row), ~0.4 ms of its CPU.
This mixin builds each field's dict once per process (choices are fixed by the model's code) and answers the same.
"""

from django.utils.encoding import force_str


class ChoiceDisplayMixin:
    """Put first in a model's bases: ``class Partner(ChoiceDisplayMixin, models.Model)``."""

    def _get_FIELD_display(self, field):  # noqa: N802 (Django's name)
        labels = field.__dict__.get("_prm_choice_labels")
        if labels is None:
            labels = field._prm_choice_labels = dict(field.flatchoices)
        value = getattr(self, field.attname)
        try:
            label = labels.get(value, value)
        except TypeError:  # an unhashable value (not one of our fields): Django's own way
            return super()._get_FIELD_display(field)
        return force_str(label, strings_only=True)
