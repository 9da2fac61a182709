from django.db import migrations

TIERS = [("Platinum", 1, 7), ("Gold", 2, 14), ("Silver", 3, 30)]


def create_tiers(apps, schema_editor):
    Tier = apps.get_model("partners", "Tier")
    for name, rank, days in TIERS:
        Tier.objects.get_or_create(name=name, defaults={"rank": rank, "engage_every_days": days})


class Migration(migrations.Migration):
    dependencies = [("partners", "0001_initial")]

    operations = [migrations.RunPython(create_tiers, migrations.RunPython.noop)]
