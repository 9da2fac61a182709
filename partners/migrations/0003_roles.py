"""Groups "Sales rep" and "Manager" with their permissions.

Reps see only the partners assigned to them (partners.selectors); managers hold ``view_all_partners`` and may
import achievements and targets.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

REP = "Sales rep"
MANAGER = "Manager"

REP_PERMISSIONS = [
    "partners.view_partner", "partners.add_partner", "partners.change_partner",
    "partners.view_contactpoint", "partners.add_contactpoint", "partners.change_contactpoint",
    "partners.delete_contactpoint",
    "partners.view_location", "partners.add_location", "partners.change_location", "partners.delete_location",
    "partners.view_tier",
    "activities.view_activity", "activities.add_activity", "activities.change_activity",
    "leads.view_lead", "leads.add_lead", "leads.change_lead", "leads.view_customer",
    "business.view_parameter", "business.view_target", "business.view_achievement",
]
MANAGER_PERMISSIONS = REP_PERMISSIONS + [
    "partners.view_all_partners", "partners.view_statuschange",
    "partners.view_profilefield",
    "leads.view_leadstagechange", "leads.add_customer", "leads.change_customer",
    "business.add_target", "business.change_target",
    "business.add_achievement", "business.change_achievement",
    "business.view_uploadbatch", "business.add_uploadbatch",
]


def create_groups(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codes in ((REP, REP_PERMISSIONS), (MANAGER, MANAGER_PERMISSIONS)):
        group, _ = Group.objects.get_or_create(name=name)
        for code in codes:
            app_label, codename = code.split(".")
            group.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("partners", "0002_default_tiers"),
        ("activities", "0001_initial"),
        ("leads", "0001_initial"),
        ("business", "0002_system_parameters"),
    ]

    operations = [migrations.RunPython(create_groups, migrations.RunPython.noop)]
