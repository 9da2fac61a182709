"""Reads of the pricing tables, and price resolution.

Resolution — the price of product P for partner X at quantity Q on day D:

1. Books that are active and valid on D (``valid_from`` ≤ D ≤ ``valid_to``, blank = open) and whose scope matches X,
   ranked by scope, most specific first: 5 the book lists X among its partners; 4 it lists X's tier and X's country;
   3 it lists X's tier (no countries); 2 it lists X's country (no tiers); 1 it is the default book (no scope at all).
   A book listing partners applies to those partners only; one listing tiers and countries needs both to match.
2. Among books of the same scope, the higher ``priority`` wins, then the newest (latest ``valid_from``, a book valid
   since always counting as oldest, then the most recently created).
3. Within the winning book, the active entry for P with the largest ``min_quantity`` ≤ Q. A book without such an
   entry does not stop the search: the next book in that order is asked (a partner book can override a few prices).

Each answer is one SQL statement: the books are ranked once in a CTE (a few dozen rows), then ``DISTINCT ON`` picks
the best entry per product through the partial index ``pricing_entry_resolve_idx``. The caller passes a partner it
was allowed to see (``partners.selectors.partner_get_for_user`` for staff, the portal's membership for partner users);
nothing here widens what a user can see.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from partners.models import Partner
from pricing.models import PriceBook, PriceEntry, Product

SCOPE_LABELS = {5: "Partner", 4: "Tier and country", 3: "Tier", 2: "Country", 1: "Default"}
PAGE_SIZE = 50
MAX_PAGE = 100_000

_BOOKS = PriceBook._meta.db_table
_BOOK_PARTNERS = PriceBook.partners.through._meta.db_table
_BOOK_TIERS = PriceBook.tiers.through._meta.db_table
_ENTRIES = PriceEntry._meta.db_table
_PRODUCTS = Product._meta.db_table

# The books that apply to one partner on one day, with their scope rank (see the module's docstring). Parameters:
# partner id, tier id, country, day.
_RANKED_BOOKS = f"""
ranked AS MATERIALIZED (
  SELECT b.id, b.code, b.name, b.currency, b.priority, b.valid_from, b.scope
  FROM (
    SELECT pb.id, pb.code, pb.name, pb.currency, pb.priority, pb.valid_from,
      CASE
        WHEN EXISTS (SELECT FROM {_BOOK_PARTNERS} bp WHERE bp.pricebook_id = pb.id) THEN
          CASE WHEN EXISTS (SELECT FROM {_BOOK_PARTNERS} bp WHERE bp.pricebook_id = pb.id AND bp.partner_id = %(partner)s)
          THEN 5 END
        WHEN EXISTS (SELECT FROM {_BOOK_TIERS} bt WHERE bt.pricebook_id = pb.id) THEN
          CASE WHEN NOT EXISTS (SELECT FROM {_BOOK_TIERS} bt WHERE bt.pricebook_id = pb.id AND bt.tier_id = %(tier)s)
            THEN NULL
            WHEN cardinality(pb.countries) = 0 THEN 3
            WHEN %(country)s = ANY(pb.countries) THEN 4 END
        WHEN cardinality(pb.countries) > 0 THEN CASE WHEN %(country)s = ANY(pb.countries) THEN 2 END
        WHEN pb.is_default THEN 1
      END AS scope
    FROM {_BOOKS} pb
    WHERE pb.active AND (pb.valid_from IS NULL OR pb.valid_from <= %(day)s)
      AND (pb.valid_to IS NULL OR pb.valid_to >= %(day)s)
  ) b
  WHERE b.scope IS NOT NULL
)"""  # noqa: S608 (table names only; every value is a parameter)
_BOOK_ORDER = "r.scope DESC, r.priority DESC, r.valid_from DESC NULLS LAST, r.id DESC, e.min_quantity DESC"
_COLUMNS = (
    "p.id, p.sku, p.name, w.unit_price, w.currency, w.min_quantity, w.book_id, w.book_code, w.book_name, w.scope"
)
_WINNERS = (
    "SELECT DISTINCT ON (e.product_id) e.product_id, e.unit_price, e.min_quantity, r.currency, r.id AS book_id, "  # noqa: S608
    "r.code AS book_code, r.name AS book_name, r.scope "
    f"FROM ranked r JOIN {_ENTRIES} e ON e.book_id = r.id "
    "WHERE e.active AND e.min_quantity <= %(quantity)s {products} "
    f"ORDER BY e.product_id, {_BOOK_ORDER}"
)


@dataclass(frozen=True)
class Price:
    product_id: int
    sku: str
    name: str
    unit_price: Decimal
    currency: str
    min_quantity: int  # of the entry that applied
    book_id: int
    book_code: str
    book_name: str
    scope: int  # 5 partner … 1 default (SCOPE_LABELS)

    @property
    def scope_label(self) -> str:
        return SCOPE_LABELS[self.scope]


@dataclass(frozen=True)
class PriceListPage:
    rows: list[Price]
    total: int  # priced products matching the search
    page: int
    pages: int
    per_page: int

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    # The names of jinja2/partials/pagination.html (Django's Page).
    @property
    def number(self) -> int:
        return self.page

    @property
    def num_pages(self) -> int:
        return self.pages

    @property
    def previous_page_number(self) -> int:
        return self.page - 1

    @property
    def next_page_number(self) -> int:
        return self.page + 1


def _params(partner: Partner, on: date | None, quantity: int) -> dict[str, object]:
    return {
        "partner": partner.pk,
        "tier": partner.tier_id,
        "country": partner.country or None,
        "day": on or timezone.localdate(),
        "quantity": max(int(quantity), 1),
    }


def price_for_partner(*, partner: Partner, product_id: int, quantity: int = 1, on: date | None = None) -> Price | None:
    """The price of one active product for ``partner`` (None when no book prices it). One query."""
    found = prices_for_partner(partner=partner, lines=[(product_id, quantity)], on=on)
    return found.get(product_id)


def prices_for_partner(
    *, partner: Partner, lines: Sequence[tuple[int, int]], on: date | None = None
) -> dict[int, Price]:
    """Prices of several active products at their own quantities — ``lines`` is ``(product_id, quantity)`` pairs (a
    deal's lines; a product given twice is priced at the larger quantity) — as ``{product_id: Price}``; products with
    no price are left out. One query."""
    quantities: dict[int, int] = {}
    for product_id, quantity in lines:
        quantities[int(product_id)] = max(quantities.get(int(product_id), 1), int(quantity), 1)
    if not quantities:
        return {}
    params = _params(partner, on, 1)
    params.update(ids=list(quantities), quantities=list(quantities.values()))
    sql = (
        f"WITH {_RANKED_BOOKS}, "  # noqa: S608
        "wanted AS (SELECT * FROM unnest(%(ids)s::bigint[], %(quantities)s::integer[]) AS q(product_id, quantity)) "
        f"SELECT {_COLUMNS} FROM wanted q JOIN {_PRODUCTS} p ON p.id = q.product_id AND p.active "
        "CROSS JOIN LATERAL (SELECT e.unit_price, e.min_quantity, r.currency, r.id AS book_id, r.code AS book_code, "
        f"r.name AS book_name, r.scope FROM ranked r JOIN {_ENTRIES} e ON e.book_id = r.id "
        "WHERE e.product_id = q.product_id AND e.active AND e.min_quantity <= q.quantity "
        f"ORDER BY {_BOOK_ORDER} LIMIT 1) w"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {row[0]: Price(*row) for row in cursor.fetchall()}


def price_list_for_partner(
    *, partner: Partner, quantity: int = 1, on: date | None = None, search: str = "", limit: int | None = None
) -> list[Price]:
    """Every active product priced for ``partner`` (at ``quantity``, on ``on``), by name; the first ``limit`` when
    given. One query."""
    sql, params = _price_list_sql(partner=partner, quantity=quantity, on=on, search=search)
    params["limit"] = limit
    with connection.cursor() as cursor:
        cursor.execute(sql + " ORDER BY p.name, p.id LIMIT %(limit)s", params)
        return [Price(*row) for row in cursor.fetchall()]


def price_list_page(
    *, partner: Partner, page: object = 1, per_page: int = PAGE_SIZE, search: str = "", quantity: int = 1,
    on: date | None = None,
) -> PriceListPage:
    """One page of ``partner``'s price list (by name), with the total of priced products matching ``search`` (part of
    the SKU or name, case-insensitive). A page past the end gives the last page. One query (two when ``page`` is past
    the end)."""
    try:
        number = min(max(int(page), 1), MAX_PAGE)
    except (TypeError, ValueError):
        number = 1
    inner, params = _price_list_sql(partner=partner, quantity=quantity, on=on, search=search)
    sql = f"SELECT *, count(*) OVER () FROM ({inner}) l ORDER BY l.name, l.id LIMIT %(limit)s OFFSET %(offset)s"  # noqa: S608
    params.update(limit=per_page, offset=(number - 1) * per_page)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        found = cursor.fetchall()
        if not found and number > 1:  # past the end: the last page (two more queries, only then)
            cursor.execute(f"SELECT count(*) FROM ({inner}) l", params)  # noqa: S608
            number = max((cursor.fetchone()[0] + per_page - 1) // per_page, 1)
            params.update(offset=(number - 1) * per_page)
            cursor.execute(sql, params)
            found = cursor.fetchall()
    total = found[0][-1] if found else 0
    pages = max((total + per_page - 1) // per_page, 1)
    return PriceListPage([Price(*row[:-1]) for row in found], total, number, pages, per_page)


def _price_list_sql(*, partner: Partner, quantity: int, on: date | None, search: str) -> tuple[str, dict]:
    params = _params(partner, on, quantity)
    where = ""
    search = (search or "").replace("\x00", "").strip()[:100]  # PostgreSQL text cannot hold NUL
    if search:
        params["search"] = "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        where = " AND (p.name ILIKE %(search)s OR p.sku ILIKE %(search)s)"
    sql = (
        f"WITH {_RANKED_BOOKS}, winners AS ({_WINNERS.format(products='')}) "  # noqa: S608
        f"SELECT {_COLUMNS} FROM winners w JOIN {_PRODUCTS} p ON p.id = w.product_id AND p.active{where}"
    )
    return sql, params


def products_active() -> QuerySet[Product]:
    """Active products by name (the deal form's choices)."""
    return Product.objects.filter(active=True).only("id", "sku", "name").order_by("name", "id")
