"""devtools.bench_library at a tiny size: it generates its resources, measures the pages within the budgets' query
counts, and leaves nothing behind (rolled back)."""

import pytest

from devtools.bench_library import bench_library
from library.models import Category, Resource

pytestmark = pytest.mark.django_db


def test_the_bench_runs_and_rolls_back(acme_admin, globex_admin):
    rows = bench_library(repeat=1, resources=300, progress=lambda message: None)
    assert len(rows) == 7
    for row in rows:
        assert int(row["queries"].split()[0]) <= 10, row
    assert not Resource.objects.exists() and not Category.objects.exists()
