from decimal import Decimal

from django.db import migrations

# (code, action, threshold %, periods, days, suppression days, weight)
RULES = [
    ("engagement_due", "schedule_meeting", None, None, 3, 7, 80),
    ("business_drop", "log_call", Decimal("30"), 3, None, 30, 70),
    ("target_at_risk", "plan_push", Decimal("80"), None, None, 14, 60),
    ("no_next_engagement", "schedule_meeting", None, None, None, 7, 50),
    ("inactivity_risk", "schedule_call", None, None, 14, 14, 90),
    ("lead_follow_up", "follow_up_lead", None, None, 7, 7, 40),
    ("tier_review", "review_tier", Decimal("25"), 3, None, 90, 30),
]


def create_rules(apps, schema_editor):
    Rule = apps.get_model("insights", "Rule")
    Tier = apps.get_model("partners", "Tier")
    for code, action, threshold, periods, days, suppression, weight in RULES:
        rule, _ = Rule.objects.get_or_create(code=code, defaults={
            "action": action, "threshold_percent": threshold, "periods": periods, "days": days,
            "suppression_days": suppression, "weight": weight,
        })
        if code == "no_next_engagement":  # the issue: "for a Platinum/Gold partner"
            rule.tiers.set(Tier.objects.filter(rank__lte=2))


class Migration(migrations.Migration):
    dependencies = [
        ("insights", "0001_initial"),
        ("partners", "0002_default_tiers"),
    ]

    operations = [migrations.RunPython(create_rules, migrations.RunPython.noop)]
