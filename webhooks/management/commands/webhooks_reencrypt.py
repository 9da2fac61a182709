from django.core.management.base import BaseCommand, CommandError

from webhooks.crypto import SecretUnreadable
from webhooks.services import endpoints_reencrypt


class Command(BaseCommand):
    help = (
        "Re-encrypt every webhook endpoint's secret under the first key of WEBHOOK_SECRET_KEYS (after putting a new "
        "key first, or after setting WEBHOOK_SECRET_KEYS for the first time). One transaction: all or nothing."
    )

    def handle(self, *args, **options):
        try:
            count = endpoints_reencrypt()
        except SecretUnreadable as error:
            raise CommandError(f"{error}: nothing was changed; keep the old key in WEBHOOK_SECRET_KEYS") from None
        self.stdout.write(self.style.SUCCESS(f"{count} endpoint secret(s) re-encrypted under the first key."))
