"""Reads of the CRM sync. Managers and admins see every connection (they are the organisation's, not a person's);
reps and everyone else see none: a 404 on every page and verb. Admins (superusers) change them."""

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from integrations.models import Connection, FieldMapping, SyncLog, SyncObject, SyncRun
from integrations.specs import SPECS
from integrations.sync import DEFAULT_MAPPINGS, PROFILE, value_map_of
from partners.models import ProfileField
from partners.selectors import user_sees_all_partners
from prm.paging import Page, page_number

LOG_PAGE_SIZE = 25
RECENT_RUNS = 10


def may_view(user: AbstractBaseUser) -> bool:
    return bool(user.is_authenticated and user.is_active and user_sees_all_partners(user))


def may_edit(user: AbstractBaseUser) -> bool:
    return bool(may_view(user) and user.is_superuser)


def connection_visible_to(user: AbstractBaseUser) -> QuerySet[Connection]:
    return Connection.objects.all() if may_view(user) else Connection.objects.none()


def connection_get_for_user(*, user: AbstractBaseUser, pk: int) -> Connection:
    """The connection ``pk`` if ``user`` may see it, else Http404 (the manager check is one query, kept on the user)."""
    return get_object_or_404(connection_visible_to(user).defer("credentials_encrypted"), pk=pk)


def connections_of(*, user: AbstractBaseUser) -> list[Connection]:
    """Every connection ``user`` may see, by name (one query; credentials not read)."""
    return list(connection_visible_to(user).defer("credentials_encrypted").order_by("name"))


def mapping_get_for_user(*, user: AbstractBaseUser, connection_pk: int, pk: int) -> FieldMapping:
    """The mapping ``pk`` of connection ``connection_pk`` if ``user`` may see the connection, else Http404."""
    return get_object_or_404(FieldMapping.objects.filter(connection__in=connection_visible_to(user))
                             .select_related("connection"), pk=pk, connection_id=connection_pk)


def connection_page(*, connection: Connection, page: object = 1) -> dict:
    """What the connection's page shows: its mappings, its latest runs and one page of its sync log (3 queries)."""
    number = page_number(page)
    log = list(SyncLog.objects.filter(connection=connection).order_by("-at", "-id")
               [(number - 1) * LOG_PAGE_SIZE:number * LOG_PAGE_SIZE + 1])
    return {
        "mappings": list(connection.mappings.order_by("object", "local_field")),
        "runs": list(SyncRun.objects.filter(connection=connection).order_by("-started_at", "-id")[:RECENT_RUNS]),
        "log": Page(rows=log[:LOG_PAGE_SIZE], number=number, has_next=len(log) > LOG_PAGE_SIZE),
    }


def mappable_objects() -> list[tuple[str, str]]:
    """(object, label) of the objects an admin may add mappings to (those with mappable fields)."""
    return [(spec.object, SyncObject(spec.object).label) for spec in SPECS.values()
            if spec.local_fields or spec.profile_fields]


def mapping_local_choices(*, connection: Connection, object: str) -> list[tuple[str, str]]:
    """The PRM fields of ``object`` a new mapping may name: the object's syncable fields and (partners) the profile
    fields, less those the connection maps already (2 queries)."""
    spec = SPECS[object]
    taken = set(connection.mappings.filter(object=object).values_list("local_field", flat=True))
    choices = [(name, str(spec.model._meta.get_field(name).verbose_name).capitalize()) for name in spec.local_fields]
    if spec.profile_fields:
        choices += [(f"{PROFILE}{key}", f"Profile: {label}")
                    for key, label in ProfileField.objects.values_list("key", "label")]
    return [(name, label) for name, label in choices if name not in taken]


def mapping_is_default(mapping: FieldMapping) -> bool:
    """A default mapping of a standard field (re-created at each sync, so it is edited, not deleted)."""
    return any((obj, local) == (mapping.object, mapping.local_field) for obj, local, *_rest in DEFAULT_MAPPINGS)


def mapping_values(mapping: FieldMapping) -> list[tuple[str, str, str]]:
    """(PRM value, its label, CRM value) of a mapped field whose values differ (a lead's stage ↔ Status), as the
    connection maps them now; [] for a plain field."""
    spec = SPECS[mapping.object]
    values = value_map_of(spec, mapping)
    if values is None:
        return []
    labels = dict(spec.model._meta.get_field(mapping.local_field).choices or [])
    return [(local, str(labels.get(local, local)), remote) for local, remote in values.items()]
