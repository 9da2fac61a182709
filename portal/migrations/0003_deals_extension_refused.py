"""A refused extension of a deal's protection is remembered (the partner may ask once: granted or refused)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("portal", "0002_deal_company_trigram")]

    operations = [
        migrations.AddField(
            model_name="dealregistration",
            name="extension_refused_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
