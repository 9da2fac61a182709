"""Issue 13: the rule ``ticket_breach`` — a customer's open service ticket is past its resolution time (the finder is
insights.evaluate._ticket_breach). Its row: "Call now" (log the call on the partner), weight 85 (an unhappy customer
outranks most partner work), a dismissal hides that ticket's insight for 3 days."""

from django.db import migrations, models


def create_rule(apps, schema_editor):
    Rule = apps.get_model("insights", "Rule")
    Rule.objects.get_or_create(code="ticket_breach", defaults={
        "action": "log_call", "suppression_days": 3, "weight": 85,
    })


def delete_rule(apps, schema_editor):
    apps.get_model("insights", "Rule").objects.filter(code="ticket_breach").delete()


class Migration(migrations.Migration):

    dependencies = [
        ('insights', '0005_insight_derived_no_fk_checks'),
    ]

    operations = [
        migrations.AlterField(
            model_name='rule',
            name='code',
            field=models.CharField(choices=[('engagement_due', 'Engagement overdue or due soon'), ('business_drop', 'Business drop'), ('target_at_risk', 'Target at risk (pacing)'), ('no_next_engagement', 'No next engagement planned'), ('inactivity_risk', 'About to be tagged inactive'), ('lead_follow_up', 'Lead without follow-up'), ('tier_review', 'Tier review (promote/demote)'), ('ticket_breach', 'Customer ticket past its resolution time')], max_length=30, unique=True),
        ),
        migrations.RunPython(create_rule, delete_rule),
    ]
