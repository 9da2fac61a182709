from django.db import migrations

SYSTEM_PARAMETERS = [
    # code, name, unit, order
    ("leads_generated", "Leads generated", "count", 1),
    ("leads_converted", "Leads converted", "count", 2),
    ("revenue", "Revenue", "USD", 3),
]


def create_system_parameters(apps, schema_editor):
    Parameter = apps.get_model("business", "Parameter")
    for code, name, unit, order in SYSTEM_PARAMETERS:
        Parameter.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "unit": unit,
                "order": order,
                "frequency": "monthly",
                "source": "computed",
                "is_system": True,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("business", "0001_initial")]

    operations = [migrations.RunPython(create_system_parameters, migrations.RunPython.noop)]
