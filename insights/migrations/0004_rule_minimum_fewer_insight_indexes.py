"""Issue 12's nightly-evaluation speed: ``Rule.minimum`` (business drop: ignore a baseline average below it; target at
risk: ignore a target below it) with its defaults, and four fewer index writes per insight (the fingerprint's unique
constraint without the ``_like`` index; no single-column indexes on the rule and partner FKs, which the composite
insight_rule_state_idx / insight_partner_state_idx lead with; the reacted_by index only where it is set)."""

import django.core.validators
import django.db.models.deletion
from decimal import Decimal
from django.conf import settings
from django.db import migrations, models


# The default minimum per rule. Both rules look at every active parameter (no parameter set), so the minimum is compared
# in each parameter's own unit: 3 = 3 leads / conversions / trainings a period — a baseline or target of 1–2 is noise
# (one lead early or late is a "100 % drop" or "behind pace") — and 3 of a currency, i.e. practically every amount.
# A manager sets a rule's parameter and a minimum in its unit in the admin for a money threshold.
MINIMUMS = {"business_drop": Decimal("3"), "target_at_risk": Decimal("3")}


def set_minimums(apps, schema_editor):
    Rule = apps.get_model("insights", "Rule")
    for code, minimum in MINIMUMS.items():
        Rule.objects.filter(code=code, minimum__isnull=True).update(minimum=minimum)


class Migration(migrations.Migration):

    dependencies = [
        ('business', '0004_drop_redundant_fk_indexes'),
        ('insights', '0003_team_figures'),
        ('partners', '0008_contact_preferred_channel_tier_due_idx'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='rule',
            name='minimum',
            field=models.DecimalField(blank=True, decimal_places=2, help_text='Business drop: ignore partners whose baseline average is below this. Target at risk: ignore targets below this.', max_digits=18, null=True, validators=[django.core.validators.MinValueValidator(Decimal('0'))]),
        ),
        migrations.RunPython(set_minimums, migrations.RunPython.noop),
        migrations.AlterField(
            model_name='insight',
            name='fingerprint',
            field=models.CharField(max_length=200),
        ),
        migrations.AlterField(
            model_name='insight',
            name='partner',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='insights', to='partners.partner'),
        ),
        migrations.AlterField(
            model_name='insight',
            name='reacted_by',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name='insight',
            name='rule',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='insights', to='insights.rule'),
        ),
        migrations.AddIndex(
            model_name='insight',
            index=models.Index(condition=models.Q(('reacted_by__isnull', False)), fields=['reacted_by'], name='insight_reacted_by_idx'),
        ),
        migrations.AddConstraint(
            model_name='insight',
            constraint=models.UniqueConstraint(fields=('fingerprint',), name='insight_fingerprint_unique'),
        ),
        migrations.AddConstraint(
            model_name='rule',
            constraint=models.CheckConstraint(condition=models.Q(('minimum__isnull', True), ('minimum__gte', 0), _connector='OR'), name='insight_rule_minimum_not_negative'),
        ),
    ]
