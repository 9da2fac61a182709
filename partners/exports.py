"""Exports that are safe to open in a spreadsheet. Every app's CSV/XLSX export uses this mixin."""

# OWASP "CSV injection": a cell starting with one of these is run as a formula by spreadsheet programs.
# django-import-export 4.4.3's IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT only strips a leading "=", so we escape here.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def escape_formula(value: object) -> object:
    """Prefix a text cell that a spreadsheet would run as a formula with a single quote; leave anything else."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


class FormulaSafeResourceMixin:
    """For django-import-export resources: escape every exported cell (see ``escape_formula``); empty cells export
    as "" rather than "None"."""

    def export_field(self, field, instance, **kwargs):
        value = super().export_field(field, instance, **kwargs)
        return "" if value is None else escape_formula(value)
