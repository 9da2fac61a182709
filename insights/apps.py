from django.apps import AppConfig


class InsightsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "insights"

    def ready(self):
        from django.apps import apps
        from django.db.models.signals import post_delete, post_save

        from insights.signals import WATCHED, partner_changed

        for app_label, model_name in WATCHED:
            model = apps.get_model(app_label, model_name)
            uid = f"insights.partner_changed.{app_label}.{model_name}"
            post_save.connect(partner_changed, sender=model, dispatch_uid=f"{uid}.save")
            post_delete.connect(partner_changed, sender=model, dispatch_uid=f"{uid}.delete")
