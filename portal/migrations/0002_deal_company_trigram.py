"""The conflict check's name similarity on open registrations: a trigram index on UPPER(company), open ones only
(written in SQL: Django 5.2 renders an opclass on an expression in a way PostgreSQL refuses, see leads 0004)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("portal", "0001_initial"), ("leads", "0005_conflict_check_indexes")]

    operations = [
        migrations.RunSQL(
            "CREATE INDEX deal_company_trgm_idx ON portal_dealregistration USING gin ((UPPER(company)) gin_trgm_ops)"
            " WHERE status IN ('submitted', 'returned', 'approved', 'won_pending');",
            "DROP INDEX IF EXISTS deal_company_trgm_idx;",
        ),
    ]
