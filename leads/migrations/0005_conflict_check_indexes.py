"""Indexes for the portal's deal-registration conflict check (portal.conflicts): a lead's company by trigram, and
the web domain of leads (their email's) and customers (their website's, else their email's), stored reversed
("com.example.sales") so that one index answers both "the same domain or a parent of it" (equality with each
parent) and "a subdomain of it" (a prefix, text_pattern_ops). Expression indexes only: no column to keep in step;
portal.conflicts writes the same expressions (LEAD_DOMAIN_SQL, CUSTOMER_DOMAIN_SQL)."""

from django.db import migrations

LEAD_DOMAIN = "reverse(lower(split_part(email, '@', 2)))"
CUSTOMER_DOMAIN = (
    "reverse(lower(coalesce(nullif(regexp_replace(website, '^([a-z][a-z0-9+.-]*://)?(www\\.)?([^/:?#]*).*$', '\\3', 'i'), ''),"
    " split_part(email, '@', 2))))"
)


class Migration(migrations.Migration):
    dependencies = [("leads", "0004_customer_search_trigram_indexes")]

    operations = [
        migrations.RunSQL(
            "CREATE INDEX lead_company_trgm_idx ON leads_lead USING gin ((UPPER(company)) gin_trgm_ops);"
            f"CREATE INDEX lead_domain_rev_idx ON leads_lead (({LEAD_DOMAIN}) text_pattern_ops) WHERE email <> '';"
            f"CREATE INDEX customer_domain_rev_idx ON leads_customer (({CUSTOMER_DOMAIN}) text_pattern_ops)"
            " WHERE website <> '' OR email <> '';",
            "DROP INDEX IF EXISTS lead_company_trgm_idx; DROP INDEX IF EXISTS lead_domain_rev_idx;"
            " DROP INDEX IF EXISTS customer_domain_rev_idx;",
        ),
    ]
