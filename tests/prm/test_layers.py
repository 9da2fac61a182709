"""The structure rules of shared/STYLE.md, enforced: imports flow down the layers, and there are no import cycles."""

import itertools

import grimp
from importlinter import cli

PACKAGES = (
    "prm", "partners", "notifications", "activities", "leads", "business", "insights", "dashboard", "devtools",
)


def test_apps_import_down_the_layers():
    """The import-linter contract of pyproject.toml (the same check as `lint-imports` in .ci/run)."""
    assert cli.lint_imports(no_cache=True) == cli.EXIT_STATUS_SUCCESS


def test_no_import_cycles():
    graph = grimp.build_graph(*PACKAGES, cache_dir=None)
    cycles = []
    for importer, imported in itertools.product(sorted(graph.modules), repeat=2):
        if importer != imported and graph.direct_import_exists(importer=importer, imported=imported):
            back = graph.find_shortest_chain(importer=imported, imported=importer)
            if back:
                cycles.append((importer, *back))
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(cycle) for cycle in cycles)
