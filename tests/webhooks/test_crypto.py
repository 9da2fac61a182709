"""Endpoint secrets: the Standard Webhooks format, encrypted at rest with keys from the environment."""

import base64

import pytest
from django.core.exceptions import ImproperlyConfigured

from webhooks import crypto


def test_secret_format_is_whsec_and_32_random_bytes():
    one, two = crypto.new_secret(), crypto.new_secret()
    assert one.startswith("whsec_") and one != two
    assert len(base64.b64decode(one.removeprefix("whsec_"))) == 32


def test_round_trip_and_nothing_readable_at_rest(settings):
    settings.WEBHOOK_SECRET_KEYS = []
    secret = crypto.new_secret()
    token = crypto.encrypt(secret)
    assert secret not in token and secret.removeprefix("whsec_") not in token
    assert crypto.decrypt(token) == secret


def test_key_rotation_old_keys_still_decrypt_and_reencrypt_moves_to_the_first(settings):
    settings.WEBHOOK_SECRET_KEYS = ["old-key-" + "o" * 40]
    secret = crypto.new_secret()
    old_token = crypto.encrypt(secret)
    settings.WEBHOOK_SECRET_KEYS = ["new-key-" + "n" * 40, "old-key-" + "o" * 40]
    assert crypto.decrypt(old_token) == secret
    new_token = crypto.reencrypt(old_token)
    settings.WEBHOOK_SECRET_KEYS = ["new-key-" + "n" * 40]
    assert crypto.decrypt(new_token) == secret
    with pytest.raises(crypto.SecretUnreadable, match="rotate the endpoint's secret"):
        crypto.decrypt(old_token)


def test_a_secret_key_change_makes_secrets_unreadable_unless_a_dedicated_key_is_set(settings):
    settings.WEBHOOK_SECRET_KEYS = []
    token = crypto.encrypt("whsec_abc")
    settings.SECRET_KEY = "another-secret-key-" + "x" * 40
    with pytest.raises(crypto.SecretUnreadable):
        crypto.decrypt(token)


def test_short_keys_are_refused(settings):
    settings.WEBHOOK_SECRET_KEYS = ["short"]
    with pytest.raises(ImproperlyConfigured, match="number 1 are shorter than 32"):
        crypto.encrypt("whsec_abc")
