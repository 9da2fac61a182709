"""One search document per partner (partners/search.py) with one trigram index, replacing the three trigram indexes of
0004 (name, code, contact values) that the old three-way UNION search used. Existing partners get their document
here, set-based."""

import django.contrib.postgres.indexes
from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations, models

from partners.search import PHONE_KINDS, refresh_sql


def fill_documents(apps, schema_editor):
    schema_editor.execute(refresh_sql(some=False), {"phone_kinds": list(PHONE_KINDS)})


class Migration(migrations.Migration):
    dependencies = [
        ("partners", "0005_partner_created_by_codechange"),
    ]

    operations = [
        TrigramExtension(),  # pg_trgm is a trusted extension (PostgreSQL 13+): the database owner may create it
        migrations.AddField(
            model_name="partner",
            name="search_document",
            field=models.TextField(blank=True, default="", editable=False),
        ),
        migrations.RunPython(fill_documents, migrations.RunPython.noop, elidable=False),
        migrations.RunSQL(
            "DROP INDEX IF EXISTS partner_name_trgm_idx; DROP INDEX IF EXISTS partner_code_trgm_idx;"
            " DROP INDEX IF EXISTS contactpoint_value_trgm_idx;",
            migrations.RunSQL.noop,
        ),
        migrations.AddIndex(
            model_name="partner",
            index=django.contrib.postgres.indexes.GinIndex(
                fields=["search_document"], opclasses=["gin_trgm_ops"], name="partner_search_trgm_idx"
            ),
        ),
    ]
