"""Writes of the resource library: the only code that writes ``Category``, ``Tag`` and ``Resource``.

Decisions:
- Categories are at most two levels deep: a top category and its subcategories. A parent that has a parent is
  refused, and so is moving a category that has subcategories under another one (either would make a third level).
  Names are unique among siblings. A category is deleted only when empty (no subcategory, no resource).
- A resource is a file, a link, a video link or an article (Markdown, sanitised when rendered by
  ``library.markdown.render_markdown``). Links and videos must be http(s). Files go through Django's storage API
  (``default_storage``: MEDIA_ROOT, or an S3-compatible bucket, see settings) under a random name, after
  ``library.resource_files.library_file_check`` (extension AND content, size); a replaced file is deleted after the
  new one is stored, a failed save removes the new one.
- The full-text document (``search``) is written by the same INSERT/UPDATE as the row:
  setweight(to_tsvector('english', title), 'A') || description 'B' || the article's plain text 'C'. The article's
  text is reduced to its words in Python (``plain_text``) and sent as a parameter.
- Audience: everyone, or any of chosen tiers, partner kinds and partners (``library.selectors`` has the rule).
- Publishing a resource — or saving a published one with a new version — tells its audience: one RESOURCE event in
  the portal feed of every partner of the audience, in ONE ``INSERT … SELECT`` over the partners table (100k partners
  are one statement, no Python loop; ``ON CONFLICT DO NOTHING`` on (partner, source_key), the key naming the resource
  and its version, so publishing the same version again tells nobody twice). The partners' active users also get an
  in-app notification (emailed: ``notifications_create``) when they are at most
  ``settings.LIBRARY_NOTIFY_MAX_RECIPIENTS``; above it only the feed carries it. A library-wide document (300k users at
  100k partners) would otherwise be 300k notification rows built in Python in the publishing request and hours of
  SMTP queue in front of deal decisions and shared leads (the sender sends 200 a minute, oldest first): broadcasts
  are the feed's and the portal home's "since your last visit" job. The staff page says which happened. Writing the
  portal's feed table here follows ``portal.announcement_services`` (the list-based ``portal.events`` helper would
  need every partner id in Python first). The notification event is ``ANNOUNCEMENT`` ("Message from the vendor"):
  a new document is one, and it needs no new notification event (no migration).
- Downloads are counted with one ``UPDATE … SET download_count = download_count + 1``.
"""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.postgres.search import SearchVector
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F, ProtectedError, Q, QuerySet, TextField, Value
from django.urls import reverse
from django.utils import timezone

from library.markdown import plain_text
from library.models import Category, Resource, Tag
from library.resource_files import library_file_check, storage_name
from notifications.models import Notification
from notifications.services import NotificationItem, notifications_create
from notifications.tasks import send_pending_emails
from partners.models import Partner, Tier
from portal.models import Membership, PortalEvent
from prm.http import clean_web_address
from prm.tasks import enqueue_on_commit

User = AbstractBaseUser
TITLE_MAX = Resource._meta.get_field("title").max_length
DESCRIPTION_MAX = Resource._meta.get_field("description").max_length
BODY_MAX = Resource._meta.get_field("body").max_length
URL_MAX = Resource._meta.get_field("url").max_length
VERSION_MAX = Resource._meta.get_field("version").max_length
CATEGORY_NAME_MAX = Category._meta.get_field("name").max_length
TAG_NAME_MAX = Tag._meta.get_field("name").max_length
MAX_CHOSEN_PARTNERS = 1_000
MAX_TAGS = 30


def _squeeze(text: str) -> str:
    return " ".join((text or "").split())


# --- Categories ---------------------------------------------------------------------------------------------------------


@transaction.atomic
def category_save(
    *, category: Category | None, name: str, parent: Category | None = None, order: int = 0,
) -> Category:
    """Create (``category`` None) or change a category. ValidationError naming the field: an empty or too long name,
    a name its siblings have, a parent that is itself a subcategory, or a category with subcategories moved under
    another (no third level), or a category made its own parent."""
    name = _squeeze(name)
    errors = {}
    if not name:
        errors["name"] = "Give the category a name."
    elif len(name) > CATEGORY_NAME_MAX:
        errors["name"] = f"Keep the name to {CATEGORY_NAME_MAX} characters (it has {len(name)})."
    try:
        order = int(order or 0)
    except (TypeError, ValueError):
        order = -1
    if not 0 <= order <= 32767:
        errors["order"] = "Use an order between 0 and 32767."
    if parent is not None:
        parent = Category.objects.select_for_update().get(pk=parent.pk)  # its own parent, as committed
        if category is not None and parent.pk == category.pk:
            errors["parent"] = "A category cannot be its own parent."
        elif parent.parent_id is not None:
            errors["parent"] = (f"“{parent.name}” is already a subcategory: categories go one level deep (choose a "
                                "top category).")
        elif category is not None and category.pk and Category.objects.filter(parent_id=category.pk).exists():
            errors["parent"] = ("This category has subcategories: it stays a top category (move or delete its "
                                "subcategories first).")
    siblings = Category.objects.filter(parent_id=parent.pk if parent else None, name__iexact=name)
    if category is not None and category.pk:
        siblings = siblings.exclude(pk=category.pk)
    if name and "name" not in errors and siblings.exists():
        errors["name"] = "A category of that name is already there."
    if errors:
        raise ValidationError(errors)
    category = category or Category()
    category.name, category.parent, category.order = name, parent, order
    try:
        with transaction.atomic():
            category.save()
    except IntegrityError:
        raise ValidationError({"name": "A category of that name is already there."}) from None
    return category


@transaction.atomic
def category_delete(*, category: Category) -> None:
    """Delete an empty category; ValidationError when it still holds subcategories or resources."""
    if Category.objects.filter(parent_id=category.pk).exists():
        raise ValidationError("Move or delete its subcategories first.")
    try:
        category.delete()
    except ProtectedError:
        raise ValidationError("It still holds resources: move them to another category first.") from None


# --- Tags ---------------------------------------------------------------------------------------------------------------


@transaction.atomic
def tag_save(*, tag: Tag | None, kind: str, name: str) -> Tag:
    """Create or rename a tag of one of the three kinds; names are unique per kind."""
    name = _squeeze(name)
    errors = {}
    if kind not in Tag.Kind.values:
        errors["kind"] = "Choose the kind of tag."
    if not name:
        errors["name"] = "Give the tag a name."
    elif len(name) > TAG_NAME_MAX:
        errors["name"] = f"Keep the name to {TAG_NAME_MAX} characters (it has {len(name)})."
    if not errors:
        clash = Tag.objects.filter(kind=kind, name__iexact=name)
        if tag is not None and tag.pk:
            clash = clash.exclude(pk=tag.pk)
        if clash.exists():
            errors["name"] = "A tag of that kind and name already exists."
    if errors:
        raise ValidationError(errors)
    tag = tag or Tag()
    tag.kind, tag.name = kind, name
    try:
        with transaction.atomic():
            tag.save()
    except IntegrityError:
        raise ValidationError({"name": "A tag of that kind and name already exists."}) from None
    return tag


@transaction.atomic
def tag_delete(*, tag: Tag) -> None:
    """Delete a tag (resources lose it)."""
    tag.delete()


# --- Resources ----------------------------------------------------------------------------------------------------------


def search_document(*, title: str, description: str, body: str):
    """The weighted tsvector of a resource, as an expression of parameters (usable in the INSERT/UPDATE itself)."""

    def part(text: str, weight: str) -> SearchVector:
        return SearchVector(Value(text or "", output_field=TextField()), config="english", weight=weight)

    return part(title, "A") + part(description, "B") + part(plain_text(body) if body else "", "C")


def resource_clean_url(url: str, *, required: bool) -> str:
    return clean_web_address(url, field="url", max_length=URL_MAX, required=required)


@dataclass(frozen=True)
class Told:
    """What publishing told the audience."""

    partners: int  # feed events recorded (partners in the audience not told of this version yet)
    recipients: int  # active partner users in the audience (counted up to the limit + 1)
    notified: bool  # whether they got in-app notifications (and emails)


@dataclass(frozen=True)
class Saved:
    resource: Resource
    told: Told | None  # set when this save published the resource or a new version of it


@transaction.atomic
def resource_save(
    *, resource: Resource | None, by: User | None, kind: str, title: str, category: Category,
    description: str = "", url: str = "", body: str = "", version: str = "", upload=None,
    tags: list[Tag] = (), to_all: bool = True, tiers: list[Tier] = (), kinds: list[str] = (),
    partners: list[Partner] = (), publish: bool | None = None, tell: bool = True, now: datetime | None = None,
) -> Saved:
    """Create (``resource`` None) or change a resource. ``upload`` (a Django UploadedFile) replaces the file of a
    file resource (required for a new one). ``publish`` True/False publishes/unpublishes; None keeps the state.
    ``tell`` False publishes silently (demo data, imports of an existing library). ValidationError naming the field
    for bad input; nothing is written or stored then."""
    now = now or timezone.now()
    errors: dict[str, str] = {}
    title, version, description = _squeeze(title), _squeeze(version), (description or "").strip()
    body = (body or "").strip()
    if kind not in Resource.Kind.values:
        errors["kind"] = "Choose what the resource is: a file, a link, a video link or an article."
    if not title:
        errors["title"] = "Give the resource a title."
    elif len(title) > TITLE_MAX:
        errors["title"] = f"Keep the title to {TITLE_MAX} characters (it has {len(title)})."
    if len(description) > DESCRIPTION_MAX:
        errors["description"] = f"Keep the description to {DESCRIPTION_MAX} characters (it has {len(description)})."
    if len(version) > VERSION_MAX:
        errors["version"] = f"Keep the version to {VERSION_MAX} characters."
    if category is None:
        errors["category"] = "Choose a category."
    try:
        url = resource_clean_url(url, required=kind in (Resource.Kind.LINK, Resource.Kind.VIDEO))
    except ValidationError as error:
        errors.update({k: v[0] for k, v in error.message_dict.items()})
    if kind == Resource.Kind.ARTICLE and not body:
        errors["body"] = "Write the article."
    elif len(body) > BODY_MAX:
        errors["body"] = f"Keep the article to {BODY_MAX:,} characters (it has {len(body):,})."
    checked = None
    if kind == Resource.Kind.FILE:
        if upload is not None:
            try:
                checked = library_file_check(upload)
            except ValidationError as error:
                errors.update({k: v[0] for k, v in error.message_dict.items()})
        elif resource is None or not resource.file:
            errors["file"] = "Choose the file to upload."
    elif upload is not None:
        errors["file"] = "Only a file resource takes a file (choose “File” or leave the file empty)."
    kinds = sorted(set(kinds))
    if set(kinds) - set(Partner.Kind.values):
        errors["kinds"] = "Unknown partner kind."
    tiers, partners, tags = list(tiers), list(partners), list(tags)
    if len(partners) > MAX_CHOSEN_PARTNERS:
        errors["partners"] = f"Choose at most {MAX_CHOSEN_PARTNERS} partners (or a tier or kind)."
    if len(tags) > MAX_TAGS:
        errors["tags"] = f"Choose at most {MAX_TAGS} tags."
    if not (to_all or tiers or kinds or partners):
        errors["to_all"] = "Choose who sees it: every partner, tiers, kinds of partner, or chosen partners."
    if errors:
        raise ValidationError(errors)
    if to_all:
        tiers, kinds, partners = [], [], []

    creating = resource is None
    if creating:
        resource = Resource(created_by=by if by is not None and by.pk else None, created_at=now)
        was_published, old_version = False, ""
    else:
        resource = Resource.objects.select_for_update().get(pk=resource.pk)
        was_published, old_version = resource.published, resource.version
    old_file = resource.file.name if resource.file else ""
    resource.kind, resource.title, resource.description, resource.category = kind, title, description, category
    resource.version, resource.to_all, resource.kinds = version, to_all, kinds
    resource.url = url if kind in (Resource.Kind.LINK, Resource.Kind.VIDEO) else ""
    resource.body = body if kind == Resource.Kind.ARTICLE else ""
    if publish is not None:
        resource.published = publish
    if resource.published and (not was_published or resource.published_at is None):
        resource.published_at = now
    resource.search = search_document(title=title, description=description, body=resource.body)
    stored = ""
    if checked is not None:
        upload.seek(0)
        resource.file.save(storage_name(checked.extension), upload, save=False)
        stored = resource.file.name
        resource.file_name, resource.file_size = checked.name, checked.size
    elif kind != Resource.Kind.FILE:
        resource.file, resource.file_name, resource.file_size = "", "", 0
    try:
        resource.save()
    except Exception:
        if stored:
            resource.file.storage.delete(stored)  # no row names it
        raise
    resource.search = None  # the expression was written; the value itself is never read back here
    resource.tags.set(tags)
    resource.tiers.set(tiers)
    resource.partners.set(partners)
    if old_file and old_file != (resource.file.name if resource.file else ""):
        storage, name = resource.file.storage, old_file
        transaction.on_commit(lambda: storage.delete(name))
    told = None
    if tell and resource.published and (not was_published or resource.version != old_version):
        told = _tell_audience(resource=resource, by=by, now=now)
    return Saved(resource=resource, told=told)


@transaction.atomic
def resource_publish(*, resource: Resource, by: User | None, now: datetime | None = None) -> Told | None:
    """Publish ``resource`` and tell its audience (see the module's decisions). Already published: nothing (None)."""
    now = now or timezone.now()
    changed = Resource.objects.filter(pk=resource.pk, published=False).update(published=True, published_at=now,
                                                                             updated_at=now)
    if not changed:
        return None
    resource.published, resource.published_at = True, now
    return _tell_audience(resource=resource, by=by, now=now)


@transaction.atomic
def resource_unpublish(*, resource: Resource, by: User | None) -> bool:
    """Hide ``resource`` from partners (its feed events stay, their link answers 404). Returns whether it changed."""
    changed = Resource.objects.filter(pk=resource.pk, published=True).update(published=False,
                                                                            updated_at=timezone.now())
    resource.published = False
    return bool(changed)


def resource_downloaded(*, resource: Resource) -> None:
    """Count one download: ``UPDATE … SET download_count = download_count + 1`` (no lost update under concurrency)."""
    Resource.objects.filter(pk=resource.pk).update(download_count=F("download_count") + 1)


def resource_audience(*, resource: Resource) -> QuerySet[Partner]:
    """The partners ``resource`` reaches (the rule of ``library.selectors.resources_visible_to`` from the resource's
    side), as a queryset for an INSERT … SELECT. No query of its own."""
    if resource.to_all:
        return Partner.objects.all()
    condition = Q(pk__in=Resource.partners.through.objects.filter(resource_id=resource.pk).values("partner_id"))
    condition |= Q(tier_id__in=Resource.tiers.through.objects.filter(resource_id=resource.pk).values("tier_id"))
    if resource.kinds:
        condition |= Q(kind__in=resource.kinds)
    return Partner.objects.filter(condition)


def _tell_audience(*, resource: Resource, by: User | None, now: datetime) -> Told:
    """The feed events (one INSERT … SELECT) and, for a small enough audience, the notifications (one INSERT)."""
    audience = resource_audience(resource=resource)
    link = reverse("library:resource", args=[resource.pk])
    source_key = f"resource:{resource.pk}:{resource.version}"[:100]
    label = f"New resource: {resource.title}" + (f" (version {resource.version})" if resource.version else "")
    partner_sql, partner_params = audience.order_by().values("pk").query.sql_with_params()
    table = connection.ops.quote_name(PortalEvent._meta.db_table)
    title_max = PortalEvent._meta.get_field("title").max_length
    actor_id = by.pk if by is not None and by.pk else None
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO {table} (partner_id, kind, title, link, actor_id, source_key, at)
                SELECT a.id, %s, %s, %s, %s, %s, %s FROM ({partner_sql}) AS a(id)
                ON CONFLICT (partner_id, source_key) DO NOTHING""",  # noqa: S608 (table and subquery from the ORM)
            [PortalEvent.Kind.RESOURCE, label[:title_max], link, actor_id, source_key, now, *partner_params],
        )
        events = cursor.rowcount
    limit = settings.LIBRARY_NOTIFY_MAX_RECIPIENTS
    user_ids = list(
        Membership.objects.filter(partner_id__in=audience.order_by().values("pk"), is_active=True,
                                  user__is_active=True)
        .order_by().values_list("user_id", flat=True)[: limit + 1]
    )
    notified = 0 < len(user_ids) <= limit
    if notified:
        created = notifications_create(items=[
            NotificationItem(recipient_id=user_id, event=Notification.Event.ANNOUNCEMENT, title=label,
                             body=resource.description[:2000], link=link, source_key=source_key)
            for user_id in user_ids
        ])
        if created:
            enqueue_on_commit(send_pending_emails)
    return Told(partners=events, recipients=len(user_ids), notified=notified)
