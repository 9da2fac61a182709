"""The conflict check ranks open registrations by trigram distance to the prospect's name: a GiST index gives the
closest in order (see leads 0007); it replaces 0002's GIN index, used by nothing else."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("portal", "0004_onboarding_event_kind"), ("leads", "0007_conflict_check_gist")]

    operations = [
        migrations.RunSQL(
            "DROP INDEX IF EXISTS deal_company_trgm_idx;"
            " CREATE INDEX deal_company_trgm_gist ON portal_dealregistration USING gist ((UPPER(company)) gist_trgm_ops)"
            " WHERE status IN ('submitted', 'returned', 'approved', 'won_pending');",
            "DROP INDEX IF EXISTS deal_company_trgm_gist;"
            " CREATE INDEX deal_company_trgm_idx ON portal_dealregistration USING gin ((UPPER(company)) gin_trgm_ops)"
            " WHERE status IN ('submitted', 'returned', 'approved', 'won_pending');",
        ),
    ]
