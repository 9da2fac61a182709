"""State changes of partners. Views, admin, commands and tasks all go through these functions."""

from django.db import transaction
from django.utils import timezone

from partners.models import ContactPoint, Location, Partner, StatusChange

# Fields a user may set on a partner through a form or an import (status has its own service).
EDITABLE_FIELDS = (
    "code", "name", "kind", "tier", "assigned_to", "business_potential", "website", "notes", "profile",
)


@transaction.atomic
def partner_create(*, by, status=Partner.Status.ACTIVE, status_reason="", **fields):
    """Create a partner; its engagement due date follows from its tier."""
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"partner_create() got unexpected fields: {sorted(unknown)}")
    now = timezone.now()
    partner = Partner(
        **fields,
        status=status,
        status_reason=status_reason,
        status_set_by=Partner.StatusSetBy.MANUAL,
        status_changed_at=now,
    )
    partner.full_clean()
    partner.save()
    _refresh_due(partner)
    return partner


@transaction.atomic
def partner_update(*, partner, by, **fields):
    """Change the editable fields of ``partner``; returns the names of the fields that changed."""
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"partner_update() got unexpected fields: {sorted(unknown)}")
    changed = [name for name, value in fields.items() if getattr(partner, name) != value]
    for name in changed:
        setattr(partner, name, fields[name])
    if not changed:
        return []
    partner.full_clean()
    partner.save(update_fields=[*changed, "updated_at"])
    if "tier" in changed:
        _refresh_due(partner)
    return changed


@transaction.atomic
def partner_set_status(*, partner, status, reason="", by=None, set_by=Partner.StatusSetBy.MANUAL):
    """Set Active/Inactive by hand (or, with ``set_by=RULE``, hand the partner back to the rules).

    Records a StatusChange row when the status itself changes.
    """
    if status not in Partner.Status.values:
        raise ValueError(f"unknown status {status!r}")
    now = timezone.now()
    previous = partner.status
    partner.status = status
    partner.status_reason = reason
    partner.status_set_by = set_by
    partner.status_changed_at = now
    partner.save(update_fields=["status", "status_reason", "status_set_by", "status_changed_at", "updated_at"])
    if previous != status:
        StatusChange.objects.create(
            partner=partner,
            from_status=previous,
            to_status=status,
            reason=reason,
            set_by=set_by,
            changed_by=by,
            changed_at=now,
        )
    return partner


def _refresh_due(partner):
    from activities.services import partner_engagement_refresh

    partner_engagement_refresh(partner)


@transaction.atomic
def partner_save_contacts_and_locations(*, partner, contacts=None, locations=None):
    """Make ``partner``'s contact points and/or locations exactly the given lists (``None`` leaves a list alone).

    Each item is a dict of the model's fields plus ``id`` (an existing row of this partner, or None for a new one);
    rows of the partner not listed are deleted. A kind with contacts but no primary gets its first one as primary
    (likewise the first location). At most one primary per kind is the caller's to validate (the forms do, with a
    message); the DB constraint is the backstop. Primaries are cleared first, so swapping a primary never collides.
    """
    if contacts is not None:
        _replace_rows(
            partner,
            ContactPoint,
            _with_default_primary(contacts, key=lambda item: item["kind"]),
            fields=("kind", "value", "label", "is_primary"),
        )
    if locations is not None:
        _replace_rows(
            partner,
            Location,
            _with_default_primary(locations, key=lambda item: None),
            fields=("label", "address", "latitude", "longitude", "is_primary"),
        )


def _with_default_primary(items, *, key):
    items = [dict(item) for item in items]
    has_primary = {key(item) for item in items if item.get("is_primary")}
    for item in items:
        if key(item) not in has_primary:
            item["is_primary"] = True
            has_primary.add(key(item))
    return items


def _replace_rows(partner, model, items, *, fields):
    existing = {row.pk: row for row in model.objects.filter(partner=partner)}
    keep = {item["id"] for item in items if item.get("id") in existing}
    model.objects.filter(partner=partner).exclude(pk__in=keep).delete()
    model.objects.filter(partner=partner, is_primary=True).update(is_primary=False)
    for item in items:
        row = existing.get(item.get("id")) or model(partner=partner)
        for name in fields:
            setattr(row, name, item.get(name, model._meta.get_field(name).get_default()))
        row.full_clean(validate_constraints=False)
        row.save()
