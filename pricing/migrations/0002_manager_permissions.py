"""Managers keep the price books in the admin (products, books, entries, the upload); reps read them."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

REP_PERMISSIONS = ["pricing.view_product", "pricing.view_pricebook", "pricing.view_priceentry"]
MANAGER_PERMISSIONS = REP_PERMISSIONS + [
    "pricing.add_product", "pricing.change_product",
    "pricing.add_pricebook", "pricing.change_pricebook",
    "pricing.add_priceentry", "pricing.change_priceentry",
    "pricing.view_pricebatch",
]


def grant(apps, schema_editor):
    config = apps.get_app_config("pricing")
    config.models_module = True
    create_permissions(config, apps=apps, verbosity=0)
    config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codes in (("Sales rep", REP_PERMISSIONS), ("Manager", MANAGER_PERMISSIONS)):
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(*[
            Permission.objects.get(content_type__app_label="pricing", codename=code.split(".")[1]) for code in codes
        ])


class Migration(migrations.Migration):
    dependencies = [
        ("pricing", "0001_initial"),
        ("partners", "0003_roles"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
