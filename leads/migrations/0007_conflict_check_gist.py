"""The deal-registration conflict check's name search (portal.conflicts) ranks by trigram distance and keeps the
closest few: a GiST trigram index returns them in that order (``ORDER BY UPPER(company) <-> 'X' LIMIT n``) where
the GIN index of 0005 could only hand over every match to be sorted — 50,000 leads for a common name such as
"Sharma & Co" at 1M leads: 430 ms instead of a few. The lead's GIN index (0005, used only by the conflict check) is
replaced; customers keep their GIN indexes (the customer list's search) and gain GiST ones."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("leads", "0006_lead_last_touched")]

    operations = [
        migrations.RunSQL(
            "DROP INDEX IF EXISTS lead_company_trgm_idx;"
            " CREATE INDEX lead_company_trgm_gist ON leads_lead USING gist ((UPPER(company)) gist_trgm_ops);"
            " CREATE INDEX customer_company_trgm_gist ON leads_customer USING gist ((UPPER(company)) gist_trgm_ops);"
            " CREATE INDEX customer_name_trgm_gist ON leads_customer USING gist ((UPPER(name)) gist_trgm_ops);",
            "DROP INDEX IF EXISTS lead_company_trgm_gist; DROP INDEX IF EXISTS customer_company_trgm_gist;"
            " DROP INDEX IF EXISTS customer_name_trgm_gist;"
            " CREATE INDEX lead_company_trgm_idx ON leads_lead USING gin ((UPPER(company)) gin_trgm_ops);",
        ),
    ]
