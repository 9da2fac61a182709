"""Reads of the resource library. What a partner user may see is decided here and only here: every portal list,
search, count, category listing and download starts from ``resources_visible_to``; staff pages read through
``resources_for_staff`` (everything, filtered). Query budgets are in each docstring (asserted in tests/library).

The audience rule: a partner sees a resource when it is published and is for everyone (``to_all``), or the partner's
tier is one of the resource's tiers, or its kind one of the resource's kinds, or the partner is one of the chosen
partners (any of them: "Gold" and "individuals" chosen is every Gold partner and every individual).
"""

from dataclasses import dataclass, field

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from library.models import Category, Resource, Tag
from partners.models import Partner
from prm.paging import Page, page_number

PAGE_SIZE = 20
NEWEST = 8
MAX_TAG_FILTERS = 5
QUERY_MAX = 200
TierLink = Resource.tiers.through
PartnerLink = Resource.partners.through
TagLink = Resource.tags.through
SEARCH_CONFIG = "english"


def resources_visible_to(*, partner: Partner) -> QuerySet[Resource]:
    """The published resources ``partner`` may see (the module's rule), to filter further. No query of its own; the
    rule is evaluated by PostgreSQL per resource (``EXISTS`` on the link tables' indexes; no DISTINCT needed)."""
    audience = Q(to_all=True) | Q(kinds__contains=[partner.kind])
    audience |= Exists(PartnerLink.objects.filter(resource_id=OuterRef("pk"), partner_id=partner.pk))
    if partner.tier_id is not None:
        audience |= Exists(TierLink.objects.filter(resource_id=OuterRef("pk"), tier_id=partner.tier_id))
    return Resource.objects.filter(audience, published=True)


def resource_get_for_partner(*, partner: Partner, pk: int) -> Resource:
    """The resource ``pk`` if ``partner`` may see it, with its category (and parent) and tags; else Http404, the same
    for a missing one. Two queries (the resource, its tags)."""
    return get_object_or_404(
        resources_visible_to(partner=partner).select_related("category", "category__parent")
        .prefetch_related(_tags()).defer("search"),
        pk=pk,
    )


def resource_file_for_partner(*, partner: Partner, pk: int) -> Resource:
    """The resource ``pk`` to download: visible to ``partner`` and holding a file; else Http404 (one query)."""
    return get_object_or_404(
        resources_visible_to(partner=partner).filter(kind=Resource.Kind.FILE).exclude(file="")
        .only("id", "file", "file_name", "file_size"),
        pk=pk,
    )


def _tags() -> Prefetch:
    return Prefetch("tags", queryset=Tag.objects.order_by("kind", "name"))


def _list_columns(queryset: QuerySet[Resource]) -> QuerySet[Resource]:
    """What a list row shows: no body, no search document, no audience."""
    return (queryset.select_related("category").prefetch_related(_tags())
            .only("id", "kind", "title", "description", "version", "published_at", "file_name", "file_size", "url",
                  "category_id", "category__id", "category__name", "category__parent_id"))


@dataclass
class Shelf:
    """A category as the portal shows it: how many visible resources it holds (its subcategories' included)."""

    category: Category
    count: int
    children: list["Shelf"] = field(default_factory=list)

    @property
    def pk(self) -> int:
        return self.category.pk

    @property
    def name(self) -> str:
        return self.category.name


def shelves(*, partner: Partner) -> list[Shelf]:
    """The categories holding something ``partner`` may see (a top category shows when it or one of its
    subcategories does), with counts, in order. Two queries: the categories, the visible counts per category."""
    categories = list(Category.objects.only("id", "name", "parent_id", "order").order_by("order", "name"))
    counts = dict(
        resources_visible_to(partner=partner).order_by().values_list("category_id").annotate(n=Count("id"))
    )
    tops: dict[int, Shelf] = {}
    for category in categories:
        if category.parent_id is None:
            tops[category.pk] = Shelf(category=category, count=counts.get(category.pk, 0))
    for category in categories:
        top = tops.get(category.parent_id) if category.parent_id is not None else None
        if top is not None and counts.get(category.pk):
            top.children.append(Shelf(category=category, count=counts[category.pk]))
            top.count += counts[category.pk]
    return [shelf for shelf in tops.values() if shelf.count]


def newest_for(*, partner: Partner, limit: int = NEWEST) -> list[Resource]:
    """The newest resources ``partner`` may see (published latest first). Two queries (rows, their tags)."""
    return list(_list_columns(resources_visible_to(partner=partner)).order_by("-published_at", "-id")[:limit])


def tags_for(*, partner: Partner) -> list[Tag]:
    """The tags of at least one resource ``partner`` may see, by kind and name: the filter chips. One query."""
    visible = resources_visible_to(partner=partner).order_by().values("pk")
    return list(Tag.objects.filter(Exists(TagLink.objects.filter(tag_id=OuterRef("pk"), resource_id__in=visible)))
                .order_by("kind", "name"))


def tag_ids(values: list[str]) -> list[int]:
    """The tag ids of a query string's ``tag`` values (numbers only, at most MAX_TAG_FILTERS, no repeats)."""
    found: list[int] = []
    for value in values:
        if str(value).isdigit() and len(str(value)) < 10 and int(value) not in found:
            found.append(int(value))
    return found[:MAX_TAG_FILTERS]


def _page(queryset: QuerySet, page: object, per_page: int) -> Page:
    number = page_number(page)
    offset = (number - 1) * per_page
    rows = list(queryset[offset: offset + per_page + 1])
    return Page(rows=rows[:per_page], number=number, has_next=len(rows) > per_page)


def _with_tags(queryset: QuerySet[Resource], tags: list[int]) -> QuerySet[Resource]:
    for tag_id in tags:  # every chosen tag (AND): one EXISTS each on the link table's (resource, tag) index
        queryset = queryset.filter(Exists(TagLink.objects.filter(resource_id=OuterRef("pk"), tag_id=tag_id)))
    return queryset


def resource_search(
    *, partner: Partner, q: str = "", tags: list[int] = (), page: object = 1, per_page: int = PAGE_SIZE,
) -> Page:
    """Resources ``partner`` may see matching ``q`` (PostgreSQL full-text search, ``websearch_to_tsquery``: words,
    "phrases", -not, or; English stemming) ranked by ``ts_rank`` over the weighted document (title A, description B,
    article text C), and carrying every tag of ``tags``. No ``q``: newest first. Two queries (a page of rows + 1, their
    tags); no count."""
    queryset = _with_tags(resources_visible_to(partner=partner), list(tags))
    q = " ".join((q or "").split())[:QUERY_MAX]
    if q:
        query = SearchQuery(q, search_type="websearch", config=SEARCH_CONFIG)
        queryset = (queryset.filter(search=query).annotate(rank=SearchRank(F("search"), query))
                    .order_by("-rank", "-published_at", "-id"))
    else:
        queryset = queryset.order_by("-published_at", "-id")
    return _page(_list_columns(queryset), page, per_page)


@dataclass
class CategoryPage:
    category: Category
    children: list[Shelf]
    page: Page


def category_page(
    *, partner: Partner, pk: int, tags: list[int] = (), page: object = 1, per_page: int = PAGE_SIZE,
) -> CategoryPage:
    """A category as ``partner`` sees it: its subcategories holding something visible (with counts) and a page of the
    visible resources directly in it (with every tag of ``tags``). Http404 when it is missing or holds nothing the
    partner may see (in it or its subcategories). Five queries: the category, its subcategories, the counts, the rows,
    their tags."""
    category = get_object_or_404(Category.objects.select_related("parent"), pk=pk)
    children = list(Category.objects.filter(parent_id=category.pk).order_by("order", "name"))
    counts = dict(
        resources_visible_to(partner=partner).filter(category_id__in=[category.pk, *(c.pk for c in children)])
        .order_by().values_list("category_id").annotate(n=Count("id"))
    )
    if not any(counts.values()):
        raise Http404("nothing visible here")
    rows = _with_tags(resources_visible_to(partner=partner).filter(category_id=category.pk), list(tags))
    return CategoryPage(
        category=category,
        children=[Shelf(category=child, count=counts[child.pk]) for child in children if counts.get(child.pk)],
        page=_page(_list_columns(rows).order_by("title", "id"), page, per_page),
    )


# --- Staff --------------------------------------------------------------------------------------------------------------


def resources_for_staff(
    *, q: str = "", category: int | None = None, kind: str = "", state: str = "", tag: int | None = None,
) -> QuerySet[Resource]:
    """Every resource (staff see everything), filtered: ``q`` (full-text, or a title part), a category (its
    subcategories included), a kind, ``state`` "published"/"draft", a tag. Newest changes first."""
    queryset = Resource.objects.all()
    q = " ".join((q or "").split())[:QUERY_MAX]
    if q:
        query = SearchQuery(q, search_type="websearch", config=SEARCH_CONFIG)
        queryset = queryset.filter(Q(search=query) | Q(title__icontains=q))
    if category:
        queryset = queryset.filter(Q(category_id=category) | Q(category__parent_id=category))
    if kind in Resource.Kind.values:
        queryset = queryset.filter(kind=kind)
    if state == "published":
        queryset = queryset.filter(published=True)
    elif state == "draft":
        queryset = queryset.filter(published=False)
    if tag:
        queryset = queryset.filter(Exists(TagLink.objects.filter(resource_id=OuterRef("pk"), tag_id=tag)))
    return queryset.order_by("-updated_at", "-id")


def resource_staff_page(*, filters: dict, page: object = 1, per_page: int = 25) -> Page:
    """A page of ``resources_for_staff(**filters)`` with category and tags. Two queries."""
    return _page(
        resources_for_staff(**filters).select_related("category", "category__parent").prefetch_related(_tags())
        .defer("body", "search"),
        page, per_page,
    )


def resource_get_for_staff(*, pk: int) -> Resource:
    """Any resource (staff), with its category, tags, tiers and chosen partners; Http404 when missing."""
    return get_object_or_404(
        Resource.objects.select_related("category", "category__parent", "created_by")
        .prefetch_related(_tags(), "tiers", "partners"),
        pk=pk,
    )


def categories_for_staff() -> list[Category]:
    """Every category, top ones each followed by its subcategories, with how many resources each holds (drafts
    included) and its subcategory count. One query."""
    rows = list(Category.objects.select_related("parent").annotate(
        resource_count=Count("resources", distinct=True), child_count=Count("children", distinct=True),
    ))
    tops = sorted((c for c in rows if c.parent_id is None), key=lambda c: (c.order, c.name.lower()))
    ordered = []
    for top in tops:
        ordered.append(top)
        ordered.extend(sorted((c for c in rows if c.parent_id == top.pk), key=lambda c: (c.order, c.name.lower())))
    return ordered


def tags_for_staff() -> list[Tag]:
    """Every tag with how many resources carry it. One query."""
    return list(Tag.objects.annotate(resource_count=Count("resources")).order_by("kind", "name"))
