"""One service level per priority (admin-editable afterwards), in calendar minutes:

==========  ===============  ==============
priority    first response   resolution
==========  ===============  ==============
urgent      1 hour           4 hours
high        4 hours          1 day
normal      8 hours          3 days
low         1 day            7 days
==========  ===============  ==============
"""

from django.db import migrations

LEVELS = {  # priority: (first response minutes, resolution minutes); the same as service.sla.DEFAULT_LEVELS
    "urgent": (60, 4 * 60),
    "high": (4 * 60, 24 * 60),
    "normal": (8 * 60, 3 * 24 * 60),
    "low": (24 * 60, 7 * 24 * 60),
}


def create_levels(apps, schema_editor):
    ServiceLevel = apps.get_model("service", "ServiceLevel")
    for priority, (first, resolution) in LEVELS.items():
        ServiceLevel.objects.get_or_create(
            priority=priority, defaults={"first_response_minutes": first, "resolution_minutes": resolution},
        )


class Migration(migrations.Migration):
    dependencies = [("service", "0001_tickets")]

    operations = [migrations.RunPython(create_levels, migrations.RunPython.noop)]
