"""How the benchmark measures a page, shared by ``devtools.bench`` and its section modules (``bench_today``): one
request counting queries, then timed ones (wall, this process's CPU, the SQL statements' time)."""

import re
import statistics
import time

from django.db import connection
from django.test.utils import CaptureQueriesContext

# Session and authentication lookups every logged-in request makes (middleware, has_perm): counted separately.
FRAMEWORK_SQL = re.compile(
    r'FROM "django_session"|FROM "auth_user" WHERE "auth_user"\."id" = |"auth_permission"\."codename"'
)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, -(-len(ordered) * 95 // 100) - 1)]  # nearest rank


def measure_get(client, url: str, repeat: int):
    """One request counting queries, then ``repeat`` timed ones.

    Returns (times, cpu, sql, (queries, framework), status), per timed request: wall seconds; this process's CPU
    seconds (Python: middleware, view, Jinja2, psycopg; the test Client's own overhead included, PostgreSQL's work not);
    and the summed duration of its SQL statements (``connection.execute_wrapper``: round trip + PostgreSQL's
    execution + psycopg reading the rows, as the view waits for them). Nothing timed when the first answer is not 200.
    """
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    # Count now: the next request's request_started signal clears the connection's query log.
    queries = len(captured)
    framework = sum(1 for q in captured.captured_queries if FRAMEWORK_SQL.search(q["sql"]))
    if response.status_code != 200:
        return [], [], [], (queries, framework), response.status_code
    in_sql = [0.0]

    def timed(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            in_sql[0] += time.perf_counter() - started

    times, cpu, sql = [], [], []
    with connection.execute_wrapper(timed):
        for _ in range(repeat):
            in_sql[0] = 0.0
            started, started_cpu = time.perf_counter(), time.process_time()
            response = client.get(url)
            times.append(time.perf_counter() - started)
            cpu.append(time.process_time() - started_cpu)
            sql.append(in_sql[0])
    return times, cpu, sql, (queries, framework), response.status_code


def median_page_row(section: str, name: str, client, url: str, repeat: int, *, target_ms: int, target_queries: int,
                    note: str) -> dict:
    """A page judged on its median wall time and its number of queries (the Today and team sections), as a dict of
    ``devtools.bench.Row`` fields (section modules do not import bench.py: no import cycle)."""
    target = f"median ≤ {target_ms} ms, ≤ {target_queries} q"
    times, cpu, sql, (queries, framework), status = measure_get(client, url, repeat)
    if status != 200:
        return {"section": section, "name": name, "queries": str(queries), "target": target, "ok": False,
                "note": f"HTTP {status} for {url}"}
    median = statistics.median(times)
    return {
        "section": section, "name": name, "median": ms(median), "p95": ms(p95(times)),
        "queries": f"{queries} ({framework} auth)", "target": target,
        "ok": median * 1000 <= target_ms and queries <= target_queries, "note": note,
        "cpu": ms(statistics.median(cpu)), "sql_time": ms(statistics.median(sql)),
    }
