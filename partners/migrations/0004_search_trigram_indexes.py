"""Trigram (pg_trgm) GIN indexes for the partner list's search: name, code and contact point values.

The list searches with ``icontains``, which Django writes as ``UPPER(col::text) LIKE UPPER('%…%')`` on PostgreSQL, so
the indexes are on that expression. If the extension cannot be created (a role
without the right), the search still works, unindexed, and the migration says so.
"""

from django.db import migrations

INDEXES = (
    ("partner_name_trgm_idx", "partners_partner", "name"),
    ("partner_code_trgm_idx", "partners_partner", "code"),
    ("contactpoint_value_trgm_idx", "partners_contactpoint", "value"),
)


def create_indexes(apps, schema_editor):
    from django.db import DatabaseError, transaction

    try:
        with transaction.atomic(using=schema_editor.connection.alias):
            schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except DatabaseError as error:
        print(f"\n  pg_trgm not available ({error}); partner search stays unindexed.")
        return
    for name, table, column in INDEXES:
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin ((UPPER("{column}"::text)) gin_trgm_ops)'
        )


def drop_indexes(apps, schema_editor):
    for name, _table, _column in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("partners", "0003_roles")]

    operations = [migrations.RunPython(create_indexes, drop_indexes, elidable=False)]
