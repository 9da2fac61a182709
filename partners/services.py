"""Writes of partners: the only code that writes Partner, StatusChange, CodeChange, ContactPoint, Location and Tier.

Views, the admin, commands, tasks and the higher apps (activities, business…) all go through these functions. The
higher apps hand in what only they know — an activity's dates, a rule's conditions — as values or ORM expressions;
``partners`` imports none of them.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Case, Exists, Expression, F, OuterRef, Q, Value, When
from django.db.models.functions import Coalesce, JSONObject, Left
from django.utils import timezone

from outbox.services import EventSpec, event_emit, events_emit, events_emit_select
from partners import search
from partners.forms import contact_value_error, profile_form_field, profile_json_value
from partners.models import CodeChange, ContactPoint, Location, Partner, ProfileField, StatusChange, Tier
from prm import pg
from prm.child_rows import replace_child_rows, with_default_primary

# Fields a user may set on a partner through a form, the admin or an import (status has its own service).
EDITABLE_FIELDS = (
    "code", "name", "kind", "tier", "assigned_to", "business_potential", "website", "notes", "profile", "country",
)
STATUS_RULES_LOCK = "partners.status_rules"


# --- Outbox events (issue 16): written in the same transaction as the change -----------------------------------------

# A partner as webhook receivers and the CRM push see it: ids, code, names and state; never notes or profile fields.
_PAYLOAD_FIELDS = ("id", "code", "name", "kind", "tier_id", "status", "status_reason", "assigned_to_id", "updated_at")


def partner_payload(partner: Partner) -> dict:
    return {name: getattr(partner, name) for name in _PAYLOAD_FIELDS}


def _emit(topic: str, partner: Partner, **extra: object) -> None:
    event_emit(topic=topic, subject_type="partner", subject_id=partner.pk, payload={**partner_payload(partner), **extra})


# --- One partner ------------------------------------------------------------------------------------------------------


def partner_lock(*, partner_id: int) -> Partner:
    """The partner row, locked until the end of the current transaction (changes to one partner serialise)."""
    return Partner.objects.select_for_update().get(pk=partner_id)


@transaction.atomic
def partner_create(
    *, by: AbstractBaseUser | None, status: str = Partner.Status.ACTIVE, status_reason: str = "", **fields: object
) -> Partner:
    """Create a partner (``fields`` from EDITABLE_FIELDS), recording ``by`` as its creator; its engagement due date
    follows from its tier."""
    _check_fields(fields)
    now = timezone.now()
    partner = Partner(
        **fields,
        created_by=by,
        status=status,
        status_reason=status_reason,
        status_set_by=Partner.StatusSetBy.MANUAL,
        status_changed_at=now,
    )
    partner.full_clean()
    partner.save()
    partner_engagement_set(
        partner=partner, last_engaged_at=partner.last_engaged_at, next_engagement_at=partner.next_engagement_at
    )
    partners_search_refresh(partner_ids=[partner.pk])
    _emit("partner.created", partner)
    return partner


@transaction.atomic
def partner_update(*, partner: Partner, by: AbstractBaseUser | None, **fields: object) -> list[str]:
    """Change the editable fields of ``partner``; returns the names of the fields that changed.

    A change of ``code`` (the key of imports and sync) is recorded as a CodeChange row with ``by``. Emits
    partner.updated naming the changed fields (nothing when nothing changed).
    """
    changed = _partner_update(partner=partner, by=by, **fields)
    if changed:
        _emit("partner.updated", partner, changed=changed)
    return changed


def _partner_update(*, partner: Partner, by: AbstractBaseUser | None, **fields: object) -> list[str]:
    _check_fields(fields)
    old_code = partner.code
    changed = [name for name, value in fields.items() if getattr(partner, name) != value]
    if not changed:
        return []
    for name in changed:
        setattr(partner, name, fields[name])
    partner.full_clean()
    partner.save(update_fields=[*changed, "updated_at"])
    if "code" in changed:
        CodeChange.objects.create(
            partner=partner, old_code=old_code, new_code=partner.code, changed_by=by, changed_at=partner.updated_at
        )
    if "tier" in changed:
        partner_engagement_set(
            partner=partner, last_engaged_at=partner.last_engaged_at, next_engagement_at=partner.next_engagement_at
        )
    if "name" in changed or "code" in changed:
        partners_search_refresh(partner_ids=[partner.pk])
    return changed


@transaction.atomic
def partner_set_status(
    *,
    partner: Partner,
    status: str,
    reason: str = "",
    by: AbstractBaseUser | None = None,
    set_by: str = Partner.StatusSetBy.MANUAL,
) -> Partner:
    """Set Active/Inactive by hand (or, with ``set_by=RULE``, hand the partner back to the rules).

    Records a StatusChange row when the status itself changes.
    """
    if status not in Partner.Status.values:
        raise ValueError(f"unknown status {status!r}")
    now = timezone.now()
    previous, previous_reason, previous_set_by = partner.status, partner.status_reason, partner.status_set_by
    partner.status = status
    partner.status_reason = reason
    partner.status_set_by = set_by
    partner.status_changed_at = now
    partner.save(update_fields=["status", "status_reason", "status_set_by", "status_changed_at", "updated_at"])
    if previous != status:
        StatusChange.objects.create(
            partner=partner, from_status=previous, to_status=status, reason=reason, set_by=set_by, changed_by=by,
            changed_at=now,
        )
        _emit("partner.status_changed", partner, from_status=previous, to_status=status, reason=reason, set_by=set_by)
    elif (previous_reason, previous_set_by) != (reason, set_by):
        _emit("partner.updated", partner, changed=["status_reason"] if previous_reason != reason else ["status_set_by"])
    return partner


@transaction.atomic
def partner_save(
    *,
    partner: Partner | None,
    by: AbstractBaseUser | None,
    fields: dict[str, object],
    status: str,
    status_reason: str,
    contacts: list[dict] | None = None,
    locations: list[dict] | None = None,
) -> Partner:
    """The add/edit flow in one transaction: partner fields, status, contact points and locations.

    ``partner`` None creates one; otherwise its row is locked first, so two people saving the same partner
    serialise. A higher app that adds its own part of the same form (business: the targets) calls this inside its
    own transaction, so the whole form is saved or nothing is.

    Events: partner.created for a new partner; otherwise one partner.updated naming every changed field, "contacts"
    and "locations" included (none when nothing changed), and partner.status_changed when the status moved.
    """
    if partner is None:
        partner = partner_create(by=by, status=status, status_reason=status_reason, **fields)
        _contacts_and_locations_replace(partner=partner, contacts=contacts, locations=locations)
        return partner
    partner = partner_lock(partner_id=partner.pk)
    changed = _partner_update(partner=partner, by=by, **fields)
    if (status, status_reason) != (partner.status, partner.status_reason):
        partner_set_status(partner=partner, status=status, reason=status_reason, by=by)
    children = _contacts_and_locations_replace(partner=partner, contacts=contacts, locations=locations)
    if children and not changed:
        _touch(partner)
    if changed or children:
        _emit("partner.updated", partner, changed=changed + children)
    return partner


@transaction.atomic
def partner_save_contacts_and_locations(
    *, partner: Partner, contacts: list[dict] | None = None, locations: list[dict] | None = None
) -> None:
    """Make ``partner``'s contact points and/or locations exactly the given lists (``None`` leaves a list alone).

    Each item is a dict of the model's fields plus ``id`` (an existing row of this partner, or None for a new one);
    rows of the partner not listed are deleted. A kind with contacts but no primary gets its first one as primary
    (likewise the first location). At most one primary per kind is the caller's to validate (the forms do, with a
    message); the DB constraint is the backstop. Primaries are cleared first, so swapping a primary never collides.

    The API embeds contacts and locations in the partner, so a change bumps the partner's updated_at (a sync by
    updated_at sees it) and emits partner.updated naming "contacts" and/or "locations".
    """
    children = _contacts_and_locations_replace(partner=partner, contacts=contacts, locations=locations)
    if children:
        _touch(partner)
        _emit("partner.updated", partner, changed=children)


def _touch(partner: Partner) -> None:
    """Bump updated_at (the API's sync order) of a partner whose embedded rows changed. One UPDATE."""
    partner.updated_at = timezone.now()
    Partner.objects.filter(pk=partner.pk).update(updated_at=partner.updated_at)


def _contacts_and_locations_replace(
    *, partner: Partner, contacts: list[dict] | None, locations: list[dict] | None
) -> list[str]:
    """partner_save_contacts_and_locations' writes; returns which of "contacts", "locations" changed."""
    changed: list[str] = []
    if contacts is not None:
        # Cleared first, like the primaries, so moving the preferred messenger to another contact never collides
        # with the one-per-partner constraint.
        ContactPoint.objects.filter(partner=partner).exclude(preferred_channel="").update(preferred_channel="")
        if replace_child_rows(
            owner_field="partner", owner=partner, model=ContactPoint,
            items=with_default_primary(contacts, key=lambda item: item["kind"]),
            fields=("kind", "value", "label", "is_primary", "preferred_channel"), validate_constraints=False,
        ):
            changed.append("contacts")
        partners_search_refresh(partner_ids=[partner.pk])
    if locations is not None and replace_child_rows(
        owner_field="partner", owner=partner, model=Location,
        items=with_default_primary(locations, key=lambda item: None),
        fields=("label", "address", "latitude", "longitude", "is_primary"), validate_constraints=False,
    ):
        changed.append("locations")
    return changed


def _check_fields(fields: dict[str, object]) -> None:
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"unexpected partner fields: {sorted(unknown)}")


# --- Search document --------------------------------------------------------------------------------------------------


def partners_search_refresh(*, partner_ids: Iterable[int] | None = None, touched_at: datetime | None = None) -> int:
    """Rebuild the search document (partners/search.py) of the given partners, or of all: one UPDATE that writes
    only documents that changed — or, with ``touched_at``, every partner given, setting ``updated_at`` too (for a
    caller that changed their contact points: one row write instead of two). Call it after writing names, codes or
    contact points in bulk. Returns rows changed."""
    params = {"phone_kinds": list(search.PHONE_KINDS), "touched_at": touched_at}
    if partner_ids is not None:
        params["ids"] = list(partner_ids)
    with connection.cursor() as cursor:
        cursor.execute(search.refresh_sql(some=partner_ids is not None, touch=touched_at is not None), params)
        return cursor.rowcount


# --- Engagement dates -------------------------------------------------------------------------------------------------


def partner_engagement_set(
    *, partner: Partner, last_engaged_at: datetime | None, next_engagement_at: datetime | None
) -> None:
    """Store a partner's last/next engagement (computed by activities) and its due date: the last engagement (or the
    partner's creation) plus its tier's engagement frequency. Updates ``partner`` in memory too."""
    partner.last_engaged_at = last_engaged_at
    partner.next_engagement_at = next_engagement_at
    partner.engagement_due_at = None
    if partner.tier_id is not None:
        days = Tier.objects.values_list("engage_every_days", flat=True).get(pk=partner.tier_id)
        partner.engagement_due_at = (last_engaged_at or partner.created_at) + timedelta(days=days)
    partner.updated_at = timezone.now()  # the API's sync order (api.pagination): a changed row moves to the end
    Partner.objects.filter(pk=partner.pk).update(
        last_engaged_at=partner.last_engaged_at,
        next_engagement_at=partner.next_engagement_at,
        engagement_due_at=partner.engagement_due_at,
        updated_at=partner.updated_at,
    )


def partners_engagement_set_all(
    *, last_engaged_at: Expression, next_engagement_at: Expression, partner_ids: Iterable[int] | None = None
) -> None:
    """Set-based: last/next engagement of many partners (all, or ``partner_ids``) from expressions evaluated per
    partner row (activities passes subqueries over its table), then their due dates. One UPDATE plus one per tier."""
    partners = Partner.objects.all() if partner_ids is None else Partner.objects.filter(pk__in=list(partner_ids))
    partners.update(last_engaged_at=last_engaged_at, next_engagement_at=next_engagement_at, updated_at=timezone.now())
    partners_due_refresh(partner_ids=partner_ids)


def partners_due_refresh(*, partner_ids: Iterable[int] | None = None) -> None:
    """Recompute ``engagement_due_at`` from each tier's frequency, set-based: one UPDATE per tier."""
    partners = Partner.objects.all() if partner_ids is None else Partner.objects.filter(pk__in=list(partner_ids))
    for tier in Tier.objects.all():
        partners.filter(tier=tier).update(
            engagement_due_at=Coalesce("last_engaged_at", "created_at") + timedelta(days=tier.engage_every_days),
            updated_at=timezone.now(),
        )
    partners.filter(tier__isnull=True, engagement_due_at__isnull=False).update(engagement_due_at=None,
                                                                               updated_at=timezone.now())


@transaction.atomic
def tier_save(*, tier: Tier) -> Tier:
    """Save a tier (admin); when its engagement frequency changed, its partners' due dates follow (set-based)."""
    previous = Tier.objects.filter(pk=tier.pk).values_list("engage_every_days", flat=True).first()
    tier.full_clean()
    tier.save()
    if previous is not None and previous != tier.engage_every_days:
        for_tier = Partner.objects.filter(tier=tier).values_list("pk", flat=True)
        Partner.objects.filter(pk__in=for_tier).update(
            engagement_due_at=Coalesce("last_engaged_at", "created_at") + timedelta(days=tier.engage_every_days),
            updated_at=timezone.now(),
        )
    return tier


# --- Status by rules (set-based) --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StatusRule:
    """One inactivity rule as set-based inputs: partners matching ``breaks`` (a Q over Partner) break it, and
    ``reason`` (an expression over the partner row) says why."""

    breaks: Q
    reason: Expression


@dataclass
class TaggingResult:
    deactivated: int = 0
    reactivated: int = 0
    dry_run: bool = False
    changes: list = field(default_factory=list)  # first few changes: (code, name, to status, reason)

    def __str__(self) -> str:
        verb = "would change" if self.dry_run else "changed"
        return f"{verb}: {self.deactivated} partners inactive, {self.reactivated} partners active again"


REACTIVATED_REASON = "meets the inactivity rules again"


def rule_governed() -> Q:
    """Partners whose status the rules may change.

    A status chosen by a person is never changed by the rules. Precisely, the rules govern a partner when
    ``status_set_by = 'rule'`` (a rule set it, or a manager handed it back to the rules), or when the partner still has
    the status it was created with, Active with no reason, and no one ever changed its status by hand (no manual
    StatusChange row). Anything else set by hand (Inactive, or Active with a reason) stays as it is.
    """
    manual_change = StatusChange.objects.filter(partner=OuterRef("pk"), set_by=Partner.StatusSetBy.MANUAL)
    return Q(status_set_by=Partner.StatusSetBy.RULE) | (
        Q(status_set_by=Partner.StatusSetBy.MANUAL, status=Partner.Status.ACTIVE, status_reason="")
        & ~Exists(manual_change)
    )


def partners_apply_status_rules(
    *, rules: list[StatusRule], now: datetime | None = None, dry_run: bool = False, sample: int = 20
) -> TaggingResult:
    """Apply status rules to every partner they govern, set-based: one UPDATE per rule, one to reactivate, one
    INSERT … SELECT for the history — never a query per partner.

    A governed Active partner that breaks a rule becomes Inactive with the rule's reason; a partner the rules made
    Inactive that breaks none of them becomes Active again. Each change is a StatusChange row. With ``dry_run``
    everything runs in a transaction that is rolled back: the result says what would change. Two runs at once
    serialise on an advisory lock.
    """
    now = now or timezone.now()  # also marks the rows this run changed (status_changed_at)
    result = TaggingResult(dry_run=dry_run)
    stamp = {"status_set_by": Partner.StatusSetBy.RULE, "status_changed_at": now, "updated_at": now}
    with transaction.atomic():
        pg.advisory_xact_lock(STATUS_RULES_LOCK)
        # The per-rule UPDATEs pass jit_above_cost; compiling each took ~0.27 s at 100k partners for no gain.
        pg.set_local(jit="off")
        governed = Partner.objects.filter(rule_governed())
        for rule in rules:
            result.deactivated += governed.filter(rule.breaks, status=Partner.Status.ACTIVE).update(
                status=Partner.Status.INACTIVE, status_reason=Left(rule.reason, 255), **stamp
            )
        breaks_any = Q(pk__in=[])
        for rule in rules:
            breaks_any |= rule.breaks
        result.reactivated = (
            Partner.objects.filter(status=Partner.Status.INACTIVE, status_set_by=Partner.StatusSetBy.RULE)
            .exclude(breaks_any)
            .update(status=Partner.Status.ACTIVE, status_reason=REACTIVATED_REASON, **stamp)
        )
        changed = Partner.objects.filter(status_changed_at=now, status_set_by=Partner.StatusSetBy.RULE)
        if not dry_run:  # rolled back anyway: the history rows and events would only cost time
            _record_rule_changes(now)
            _emit_rule_changes(changed)
        result.changes = list(changed.order_by("name", "id").values_list("code", "name", "status", "status_reason")[:sample])
        if dry_run:
            transaction.set_rollback(True)
    return result


def _record_rule_changes(now: datetime) -> None:
    """One StatusChange row per partner changed by the run stamped ``now``, in one INSERT … SELECT (the ORM cannot
    say INSERT … SELECT; table and column names come from the models)."""
    change, partner = StatusChange._meta, Partner._meta
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {change.db_table} (partner_id, from_status, to_status, reason, set_by, changed_by_id,"  # noqa: S608
            f" changed_at) SELECT p.id, CASE p.status WHEN %s THEN %s ELSE %s END, p.status, p.status_reason, %s,"
            f" NULL, %s FROM {partner.db_table} p WHERE p.status_changed_at = %s AND p.status_set_by = %s",
            [Partner.Status.ACTIVE, Partner.Status.INACTIVE, Partner.Status.ACTIVE, Partner.StatusSetBy.RULE, now, now,
             Partner.StatusSetBy.RULE],
        )


def _emit_rule_changes(changed) -> None:
    """One partner.status_changed event per partner the run changed, in one INSERT … SELECT (payload as
    partner_set_status's, built in SQL)."""
    events_emit_select(
        topic="partner.status_changed", subject_type="partner", rows=changed,
        payload=JSONObject(
            **{name: F(name) for name in _PAYLOAD_FIELDS},
            from_status=Case(When(status=Partner.Status.ACTIVE, then=Value(Partner.Status.INACTIVE)),
                             default=Value(Partner.Status.ACTIVE)),
            to_status=F("status"), reason=F("status_reason"), set_by=F("status_set_by"),
        ),
    )


def partners_hand_to_rules(*, partner_ids: Iterable[int]) -> int:
    """Let the inactivity rules decide the status of these partners from their next run. Returns how many."""
    return Partner.objects.filter(pk__in=list(partner_ids)).update(status_set_by=Partner.StatusSetBy.RULE,
                                                                   updated_at=timezone.now())


# --- Set-based writes for the CRM sync (integrations.sync) -------------------------------------------------------------


@dataclass
class SyncUpsertResult:
    ids: dict[str, int] = field(default_factory=dict)  # caller's key → partner id, for the rows written
    created: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)  # caller's key → "field: message"


@transaction.atomic
def partners_sync_upsert(
    *, rows: dict[str, dict[str, object]], existing: dict[str, int], by: AbstractBaseUser | None = None
) -> SyncUpsertResult:
    """Create or update many partners at once (a page of CRM records): ``rows`` maps the caller's key to the fields
    to set (EDITABLE_FIELDS); keys in ``existing`` update that partner id, the others create one. ``profile`` is a
    partial change of the configurable profile ({key: value}, None or "" clears it), merged into the partner's and
    checked like the form checks it (one more query when given).

    Each row is validated like a form save (``full_clean``; codes unique, checked in one query for the batch); a row that
    fails is left out and reported in ``errors`` with the field, the others are written. Queries: 1 to load the partners
    updated, 1 for the codes taken, 1 INSERT per 1,000 created, 1 UPDATE per 500 updated, 1 for code changes, 1 search
    refresh, 1 INSERT of the partner.created / partner.updated outbox events, plus the due-date refresh (one per tier)
    when tiers were set.
    """
    result = SyncUpsertResult()
    for fields in rows.values():
        _check_fields(fields)
    now = timezone.now()
    current = Partner.objects.in_bulk([pk for key, pk in existing.items() if key in rows])
    profile_keys = {name for fields in rows.values() for name in fields.get("profile") or {}}
    profile_fields = ProfileField.objects.in_bulk(profile_keys, field_name="key") if profile_keys else {}
    codes = {key: fields["code"] for key, fields in rows.items() if "code" in fields}
    taken = dict(Partner.objects.filter(code__in=set(codes.values())).values_list("code", "pk"))
    seen: dict[object, str] = {}
    creates: list[tuple[str, Partner]] = []
    updates: list[tuple[str, Partner, list[str], str]] = []
    for key, fields in rows.items():
        pk = existing.get(key)
        partner = current.get(pk) if pk is not None else None
        if pk is not None and partner is None:
            result.errors[key] = "partner: the linked partner no longer exists"
            continue
        code = fields.get("code")
        if code is not None and (taken.get(code, pk) != pk or code in seen):
            result.errors[key] = f"code: {code!r} is already used by another partner"
            continue
        if "profile" in fields:
            try:
                merged = _profile_merge(partner.profile if partner else {}, fields["profile"], profile_fields)
            except ValidationError as exc:
                result.errors[key] = "; ".join(exc.messages)
                continue
            fields = {**fields, "profile": merged}
        if partner is None:
            partner = Partner(**fields, created_by=by, status=Partner.Status.ACTIVE,
                              status_set_by=Partner.StatusSetBy.MANUAL, status_changed_at=now, created_at=now,
                              updated_at=now)
            changed: list[str] = list(fields)
        else:
            changed = [name for name, value in fields.items() if getattr(partner, name) != value]
        old_code = partner.code
        for name in changed:
            setattr(partner, name, fields[name])
        try:
            partner.full_clean(validate_unique=False, validate_constraints=False)
        except ValidationError as exc:
            result.errors[key] = "; ".join(f"{name}: {' '.join(msgs)}" for name, msgs in exc.message_dict.items())
            continue
        if code is not None:
            seen[code] = key
        if partner.pk is None:
            creates.append((key, partner))
        elif changed:
            partner.updated_at = now
            updates.append((key, partner, changed, old_code))
        else:
            result.ids[key] = partner.pk
    Partner.objects.bulk_create([partner for _key, partner in creates], batch_size=1000)
    for key, partner in creates:
        result.ids[key] = partner.pk
        result.created.append(key)
    names = sorted({name for _key, _partner, changed, _old in updates for name in changed} | {"updated_at"})
    Partner.objects.bulk_update([partner for _key, partner, _changed, _old in updates], names, batch_size=500)
    for key, partner, _changed, _old in updates:
        result.ids[key] = partner.pk
    CodeChange.objects.bulk_create([
        CodeChange(partner=partner, old_code=old, new_code=partner.code, changed_by=by, changed_at=now)
        for _key, partner, changed, old in updates if "code" in changed
    ])
    events_emit(events=[EventSpec(topic="partner.created", subject_type="partner", subject_id=partner.pk,
                                  payload=partner_payload(partner)) for _key, partner in creates]
                + [EventSpec(topic="partner.updated", subject_type="partner", subject_id=partner.pk,
                             payload={**partner_payload(partner), "changed": changed})
                   for _key, partner, changed, _old in updates])
    touched = [p.pk for _k, p in creates] + [p.pk for _k, p, changed, _o in updates if {"name", "code"} & set(changed)]
    if touched:
        partners_search_refresh(partner_ids=touched)
    tiered = [p.pk for _k, p in creates if p.tier_id] + [p.pk for _k, p, changed, _o in updates if "tier" in changed]
    if tiered:
        partners_due_refresh(partner_ids=tiered)
    return result


def _profile_merge(current: dict, changes: dict, fields: dict[str, ProfileField]) -> dict:
    """``current`` with ``changes`` ({key: value}; None or "" removes the key) applied, each value checked and stored
    as the partner form stores it (profile_form_field / profile_json_value). ValidationError names the key."""
    merged = dict(current or {})
    for name, value in changes.items():
        field = fields.get(name)
        if field is None:
            raise ValidationError(f"profile.{name}: no such profile field")
        if value in (None, ""):
            merged.pop(name, None)
            continue
        try:
            merged[name] = profile_json_value(profile_form_field(field).clean(str(value)))
        except ValidationError as exc:
            raise ValidationError(f"profile.{name}: {' '.join(exc.messages)}") from None
    return merged


@transaction.atomic
def partners_sync_deactivate(*, partner_ids: Iterable[int], reason: str, by: AbstractBaseUser | None = None) -> int:
    """Set-based: mark these partners inactive with ``reason`` (a record deleted in the CRM: business history is kept,
    never deleted), one StatusChange each for those that were active. Returns how many changed. 3 queries."""
    now = timezone.now()
    ids = list(Partner.objects.filter(pk__in=list(partner_ids), status=Partner.Status.ACTIVE).values_list("pk", flat=True))
    Partner.objects.filter(pk__in=ids).update(
        status=Partner.Status.INACTIVE, status_reason=reason, status_set_by=Partner.StatusSetBy.MANUAL,
        status_changed_at=now, updated_at=now,
    )
    StatusChange.objects.bulk_create([
        StatusChange(partner_id=pk, from_status=Partner.Status.ACTIVE, to_status=Partner.Status.INACTIVE, reason=reason,
                     set_by=Partner.StatusSetBy.MANUAL, changed_by=by, changed_at=now) for pk in ids
    ])
    if ids:
        events_emit_select(
            topic="partner.status_changed", subject_type="partner", rows=Partner.objects.filter(pk__in=ids),
            payload=JSONObject(**{name: F(name) for name in _PAYLOAD_FIELDS}, from_status=Value(Partner.Status.ACTIVE),
                               to_status=F("status"), reason=F("status_reason"), set_by=F("status_set_by")),
        )
    return len(ids)


# --- Contact points ↔ CRM Contacts (integrations.contacts, issue 17) ---------------------------------------------------


@dataclass(frozen=True)
class ContactPointNew:
    """A contact point to create; ``key`` is the caller's name for it (the CRM sync: "<Contact Id>.<field>")."""

    key: str
    partner_id: int
    kind: str
    value: str
    label: str


@dataclass(frozen=True)
class ContactPointChange:
    """New value and label of an existing contact point (its kind and partner stay)."""

    key: str
    point_id: int
    value: str
    label: str


@dataclass
class ContactPointsSyncResult:
    ids: dict[str, int] = field(default_factory=dict)  # key → contact point id, for the creates and updates written
    errors: dict[str, str] = field(default_factory=dict)  # key → "value: message" / "label: message"
    deleted: int = 0
    partner_ids: list[int] = field(default_factory=list)  # the partners whose contact points changed


def _contact_point_error(point: ContactPoint) -> str:
    """What the partner form would say about this point ("" when valid): the model's field checks, then the form's
    rule for the value of its kind (an email address; digits, optionally starting with +, for phones)."""
    try:
        point.clean_fields(exclude=["partner", "is_primary", "preferred_channel"])
    except ValidationError as exc:
        return "; ".join(f"{name}: {' '.join(messages)}" for name, messages in exc.message_dict.items())
    problem = contact_value_error(point.kind, point.value)
    return f"value: {problem}" if problem else ""


@transaction.atomic
def contact_points_sync_apply(
    *, creates: Iterable[ContactPointNew] = (), updates: Iterable[ContactPointChange] = (), deletes: Iterable[int] = (),
) -> ContactPointsSyncResult:
    """Set-based writes of contact points from the CRM sync (a page of Contacts): create, change value/label, delete.

    Decisions:
    - Each create/update is checked like the partner form checks it (``_contact_point_error``); one that fails is
      left out and reported in ``errors`` with the field, the others are written. A point to update or delete that is
      gone already is left out silently (not in ``ids``).
    - One primary per kind: new points are created not primary, deletions happen first, then every kind of the
      touched partners that has points but no primary gets its oldest point as primary (one UPDATE). So a new point
      is primary when the partner had no primary of its kind, and deleting a primary promotes the next one, as the
      partner form does.
    - Contact points are not business history: a deletion deletes the row (the partner, activities, leads stay).
    - Per partner whose points changed: updated_at bumped (the API's sync order), search document refreshed, one
      partner.updated event with changed=["contacts"] (webhooks and the CRM push see it).

    Queries, however many rows: 1 to read the points updated/deleted, 1 to read the partners, 1 DELETE, 1 INSERT,
    1 UPDATE of values, 1 primary UPDATE, 1 search refresh with updated_at, 1 events INSERT (each only when
    needed; nothing at all when nothing is given or nothing changes).
    """
    creates, updates, deletes = list(creates), list(updates), set(deletes)
    result = ContactPointsSyncResult()
    touched_ids = {change.point_id for change in updates} | deletes
    current = ({row["pk"]: row for row in ContactPoint.objects.filter(pk__in=touched_ids)
                .values("pk", "partner_id", "kind", "value", "label")} if touched_ids else {})
    partner_ids = {new.partner_id for new in creates} | {row["partner_id"] for row in current.values()}
    partners = Partner.objects.only(*_PAYLOAD_FIELDS).in_bulk(partner_ids) if partner_ids else {}
    changed: set[int] = set()
    new_points: list[tuple[str, ContactPoint]] = []
    for new in creates:
        if new.partner_id not in partners:
            result.errors[new.key] = "partner: the partner no longer exists"
            continue
        point = ContactPoint(partner_id=new.partner_id, kind=new.kind, value=new.value.strip(), label=new.label.strip())
        error = _contact_point_error(point)
        if error:
            result.errors[new.key] = error
            continue
        new_points.append((new.key, point))
        changed.add(new.partner_id)
    changes: list[ContactPoint] = []
    for change in updates:
        row = current.get(change.point_id)
        if row is None or change.point_id in deletes:
            continue
        point = ContactPoint(pk=row["pk"], partner_id=row["partner_id"], kind=row["kind"], value=change.value.strip(),
                             label=change.label.strip())
        error = _contact_point_error(point)
        if error:
            result.errors[change.key] = error
            continue
        result.ids[change.key] = point.pk
        if (point.value, point.label) != (row["value"], row["label"]):
            changes.append(point)
            changed.add(row["partner_id"])
    gone = [pk for pk in deletes if pk in current]
    if gone:
        result.deleted, _ = ContactPoint.objects.filter(pk__in=gone).delete()
        changed |= {current[pk]["partner_id"] for pk in gone}
    if new_points:
        pg.insert_objects([point for _key, point in new_points])  # bulk_create's work, without its per-value cost
        result.ids.update({key: point.pk for key, point in new_points})
    if changes:
        ContactPoint.objects.bulk_update(changes, ["value", "label"])
    if not changed:
        return result
    ids = sorted(changed)
    if new_points or gone:
        _contact_primaries_fill(partner_ids=ids)
    now = timezone.now()
    partners_search_refresh(partner_ids=ids, touched_at=now)  # search documents and updated_at, one UPDATE
    for pk in ids:
        partners[pk].updated_at = now
    events_emit(events=[EventSpec(topic="partner.updated", subject_type="partner", subject_id=pk,
                                  payload={**partner_payload(partners[pk]), "changed": ["contacts"]}) for pk in ids])
    result.partner_ids = ids
    return result


def _contact_primaries_fill(*, partner_ids: list[int]) -> int:
    """Make the oldest point primary in each kind of these partners that has points but no primary (one UPDATE)."""
    has_primary = ContactPoint.objects.filter(partner=OuterRef("partner"), kind=OuterRef("kind"), is_primary=True)
    oldest = (ContactPoint.objects.filter(partner_id__in=partner_ids).exclude(Exists(has_primary))
              .order_by("partner_id", "kind", "id").distinct("partner_id", "kind").values("pk"))
    return ContactPoint.objects.filter(pk__in=oldest).update(is_primary=True)
