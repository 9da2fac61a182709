"""Saving the rows that hang off one owner row (a partner's or a customer's contacts and locations) from a form's list
of dicts: the one shape both ``partners.services`` and ``leads.customer_services`` use."""

from collections.abc import Callable

from django.db.models import Model


def with_default_primary(items: list[dict], *, key: Callable[[dict], object]) -> list[dict]:
    """Copies of ``items`` where the first item of each ``key`` group is primary when none of its group is."""
    items = [dict(item) for item in items]
    has_primary = {key(item) for item in items if item.get("is_primary")}
    for item in items:
        if key(item) not in has_primary:
            item["is_primary"] = True
            has_primary.add(key(item))
    return items


def replace_child_rows(
    *, owner_field: str, owner: Model, model: type[Model], items: list[dict], fields: tuple[str, ...],
    validate_constraints: bool = True,
) -> bool:
    """Make ``owner``'s ``model`` rows exactly ``items``: rows whose ``id`` is not among them are deleted, the others
    updated, items without a known id created (``fields`` only; a missing field gets its default). Primaries are
    cleared first, so the one-primary constraints hold at every step. Each row is ``full_clean``-ed (its check
    constraints too unless ``validate_constraints`` is False): a ValidationError, never an IntegrityError. Call inside
    the caller's transaction. Returns whether anything changed (a row deleted, created, or given another value), so
    the owner can bump its updated_at and report the change only then."""
    rows = model.objects.filter(**{owner_field: owner})
    existing = {row.pk: row for row in rows}
    keep = {item["id"] for item in items if item.get("id") in existing}
    deleted, _ = rows.exclude(pk__in=keep).delete()
    changed = bool(deleted)
    rows.filter(is_primary=True).update(is_primary=False)
    for item in items:
        row = existing.get(item.get("id")) or model(**{owner_field: owner})
        changed = changed or row.pk is None
        for name in fields:
            value = item.get(name, model._meta.get_field(name).get_default())
            changed = changed or getattr(row, name) != value  # the in-memory row still holds the stored values
            setattr(row, name, value)
        row.full_clean(validate_constraints=validate_constraints)
        row.save()
    return changed
