from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "notifications"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from notifications.signals import remember_time_zone

        user_logged_in.connect(remember_time_zone, dispatch_uid="notifications.remember_time_zone")
