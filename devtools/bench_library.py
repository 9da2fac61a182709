"""Benchmark of the resource library (issue 15): the portal's library page, a search, a tag filter and a category page
for a partner user, at ``RESOURCES`` resources (5,000) on the bench's partners (100k with ``seed_demo``).

The resources are generated set-based inside a transaction that is rolled back at the end (nothing stays behind):
8 top categories with 3 subcategories each, 10 tags of each kind, then one ``INSERT … SELECT … generate_series`` of
resources whose words come from a small vocabulary by hash (so searches hit hundreds of rows), their search documents
computed by PostgreSQL with the same weights as ``library.services.search_document``; 95% published; the audience
mixed as a real library would be: 40% everyone, 30% one or two tiers, 10% individuals, 20% ten chosen partners each
(the measured partner among them for 1 in 10); 0–3 tags each. Then ANALYZE, and the pages through Django's test Client
(``devtools.bench_measure.median_page_row``: queries counted, median of ``repeat``). Targets: ≤ 10 queries, median
≤ 80 ms.

Run it: ``manage.py bench --only library`` (it returns dicts of ``devtools.bench.Row`` fields).
"""

from django.conf import settings
from django.db import connection, transaction
from django.test import Client
from django.test.utils import override_settings
from django.urls import reverse

from devtools.bench_measure import median_page_row
from library import services
from library.models import Category, Resource, Tag
from portal.models import Membership

SECTION = "library"
RESOURCES = 5_000
PAGE_MS, PAGE_QUERIES = 80, 10
WORDS = ["deal", "registration", "partner", "pricing", "marketing", "fund", "onboarding", "retail", "manufacturing",
         "agriculture", "guide", "playbook", "webinar", "training", "certification", "rebate", "discount", "quarter",
         "campaign", "lead", "customer", "renewal", "support", "warranty", "logistics", "forecast", "territory",
         "channel", "incentive", "brand", "template", "checklist", "video", "demo", "product", "launch", "release",
         "security", "cloud", "service"]


class _Rollback(Exception):
    pass


def _noop(message):
    print(message, flush=True)  # noqa: T201 (a command-line helper)


def _words(seed: str, count: int, salt: int) -> str:
    """``count`` vocabulary words picked by hash of ``seed`` (an SQL expression) and ``salt``."""
    picks = [f"(%(words)s::text[])[1 + (hashint8extended({seed}, {salt * 100 + i}) & 2147483647) %% %(n)s]"
             for i in range(count)]
    return " || ' ' || ".join(picks)


def generate(*, resources: int = RESOURCES, member: Membership | None = None) -> int:
    """Write the bench's categories, tags and ``resources`` resources (in the caller's transaction)."""
    tops = [services.category_save(category=None, name=f"Bench shelf {n}", order=n) for n in range(8)]
    subs = [services.category_save(category=None, name=f"Bench sub {n}.{m}", parent=top)
            for n, top in enumerate(tops) for m in range(3)]
    category_ids = [c.pk for c in [*tops, *subs]]
    tag_ids = [services.tag_save(tag=None, kind=kind, name=f"Bench {kind} {n}").pk
               for kind in Tag.Kind.values for n in range(10)]
    first = (Resource.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
    table = connection.ops.quote_name(Resource._meta.db_table)
    title, description, body = _words("g", 4, 1), _words("g", 12, 2), _words("g", 60, 3)
    params = {"words": WORDS, "n": len(WORDS), "cats": category_ids, "ncat": len(category_ids), "first": first,
              "last": first + resources - 1}
    with connection.cursor() as cursor:
        cursor.execute(f"""
            INSERT INTO {table} (id, to_all, kinds, kind, title, description, file, file_name, file_size, url, body,
                                 version, published, published_at, download_count, created_at, updated_at, search,
                                 category_id)
            SELECT g, (g %% 10) < 4, CASE WHEN g %% 10 = 7 THEN '["individual"]'::jsonb ELSE '[]'::jsonb END,
                   'article', initcap(t.title), t.description, '', '', 0, '', t.body, '', (g %% 20) <> 0,
                   now() - g * interval '7 minutes', 0, now(), now(),
                   setweight(to_tsvector('english', t.title), 'A') || setweight(to_tsvector('english', t.description),
                   'B') || setweight(to_tsvector('english', t.body), 'C'),
                   (%(cats)s::bigint[])[1 + (hashint8extended(g, 9) & 2147483647) %% %(ncat)s]
            FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS g,
                 LATERAL (SELECT {title} AS title, {description} AS description, {body} AS body) AS t
        """, params)  # noqa: S608 (names from the models, expressions from this module)
        tiers = connection.ops.quote_name(Resource.tiers.through._meta.db_table)
        cursor.execute(f"""
            INSERT INTO {tiers} (resource_id, tier_id)
            SELECT g, t.id FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS g
            JOIN partners_tier t ON (hashint8extended(g, 11) & 2147483647) %% 3 = t.rank %% 3
                                 OR (hashint8extended(g, 12) & 2147483647) %% 3 = t.rank %% 3
            WHERE g %% 10 IN (4, 5, 6)
            ON CONFLICT DO NOTHING
        """, params)  # noqa: S608
        chosen = connection.ops.quote_name(Resource.partners.through._meta.db_table)
        cursor.execute("SELECT min(id), max(id) FROM partners_partner")
        low, high = cursor.fetchone()
        cursor.execute(f"""
            INSERT INTO {chosen} (resource_id, partner_id)
            SELECT g, p.id FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS g
            CROSS JOIN LATERAL (SELECT id FROM partners_partner
                                WHERE id >= %(pmin)s + (hashint8extended(g, 13) & 2147483647) %% %(pspan)s
                                ORDER BY id LIMIT 10) AS p
            WHERE g %% 10 IN (8, 9)
            ON CONFLICT DO NOTHING
        """, {**params, "pmin": low or 0, "pspan": max(1, (high or 0) - (low or 0) + 1)})  # noqa: S608
        if member is not None:
            cursor.execute(f"""
                INSERT INTO {chosen} (resource_id, partner_id)
                SELECT g, %(partner)s FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS g
                WHERE g %% 100 IN (8, 9, 18, 19, 28, 29, 38, 39, 48, 49)
                ON CONFLICT DO NOTHING
            """, {**params, "partner": member.partner_id})  # noqa: S608
        links = connection.ops.quote_name(Resource.tags.through._meta.db_table)
        cursor.execute(f"""
            INSERT INTO {links} (resource_id, tag_id)
            SELECT g, (%(tags)s::bigint[])[1 + (hashint8extended(g, 20 + k) & 2147483647) %% %(ntags)s]
            FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS g, generate_series(1, 3) AS k
            WHERE k <= g %% 4
            ON CONFLICT DO NOTHING
        """, {**params, "tags": tag_ids, "ntags": len(tag_ids)})  # noqa: S608
        cursor.execute(f"SELECT setval(pg_get_serial_sequence('{Resource._meta.db_table}', 'id'), %s)",
                       [first + resources - 1])
        for model in (Resource, Resource.tiers.through, Resource.partners.through, Resource.tags.through, Category,
                      Tag):
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
    return resources


def _member() -> Membership | None:
    """A partner user of a tiered partner (the first active one)."""
    return (Membership.objects.select_related("user", "partner").filter(is_active=True, user__is_active=True,
                                                                        partner__tier__isnull=False)
            .order_by("id").first())


def bench_library(*, repeat: int = 20, resources: int = RESOURCES, progress=_noop) -> list[dict]:
    member = _member()
    target = f"median ≤ {PAGE_MS} ms, ≤ {PAGE_QUERIES} q"
    if member is None:
        return [{"section": SECTION, "name": "library", "ok": False, "target": target,
                 "note": "no partner users: run `manage.py seed_demo --portal-only` first"}]
    rows: list[dict] = []
    hosts = [*settings.ALLOWED_HOSTS, "testserver"]
    try:
        with override_settings(DEBUG=False, ALLOWED_HOSTS=hosts, SECURE_SSL_REDIRECT=False), transaction.atomic():
            progress(f"library · generating {resources:,} resources")
            generate(resources=resources, member=member)
            client = Client()
            client.force_login(member.user)
            home = reverse("library:home")
            tag = Tag.objects.filter(name__startswith="Bench").order_by("id").first()
            category = Category.objects.filter(name="Bench shelf 0").first()
            pages = [
                ("library page", home),
                ("search: deal registration", f"{home}?q=deal+registration"),
                ("search: \"marketing fund\" -retail", f"{home}?q=%22marketing+fund%22+-retail"),
                ("search: a word nowhere", f"{home}?q=zebra"),
                ("tag filter", f"{home}?tag={tag.pk}"),
                ("search + tag", f"{home}?q=partner&tag={tag.pk}"),
                ("category page", reverse("library:category", args=[category.pk])),
            ]
            for name, url in pages:
                progress(f"library · {name}")
                rows.append(median_page_row(SECTION, f"{name} ({member.user.username})", client, url, repeat,
                                            target_ms=PAGE_MS, target_queries=PAGE_QUERIES,
                                            note=f"{url} · {resources:,} resources"))
            raise _Rollback
    except _Rollback:
        pass
    return rows
