"""integrations.sync and integrations.crypto: set-based pages, conflict decisions, encrypted credentials."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test.utils import CaptureQueriesContext

from integrations import crypto
from integrations.services import connection_pull
from integrations.sync import ACCOUNT, Context, Counts, pull_page_commit


def _page(fake_sf, count, prefix):
    fake_sf.bulk_load("Account", [{"Name": f"{prefix} {i}", "Website": f"https://{prefix}{i}.example.com"}
                                  for i in range(count)])
    return [dict(r) for r in list(fake_sf.records["Account"].values())[-count:]]


def test_a_page_costs_the_same_queries_for_50_or_1000_records(sf_connection, fake_sf):
    ctx = Context(connection=sf_connection, run=None, spec=ACCOUNT, mappings=list(sf_connection.mappings.filter(object="account")))
    pull_page_commit(ctx, _page(fake_sf, 5, "warm"), Counts())  # the cursor exists from here on
    counts = []
    for size, prefix in ((50, "small"), (1000, "big")):
        records = _page(fake_sf, size, prefix)
        with CaptureQueriesContext(connection) as queries:
            pull_page_commit(ctx, records, Counts())
        counts.append(len(queries))
    # refs, partners by key, links, local rows, codes taken, INSERT partners, outbox events, search refresh,
    # INSERT refs, cursor (get + insert/update), savepoints: the same whatever the page size
    assert counts[0] == counts[1], counts
    # and the changes of those 1,050 partners: again the same count as for 50
    for record in fake_sf.records["Account"].values():
        record["Name"] += " (changed)"
    records = list(fake_sf.records["Account"].values())
    with CaptureQueriesContext(connection) as small:
        pull_page_commit(ctx, [dict(r) for r in records[:50]], Counts())
    with CaptureQueriesContext(connection) as big:
        pull_page_commit(ctx, [dict(r) for r in records[50:1050]], Counts())
    assert len(big) <= len(small) + 1, (len(small), len(big))  # bulk_update: one UPDATE per 500 rows


def test_credentials_round_trip_and_a_lost_key(settings):
    token = crypto.encrypt({"client_id": "a", "client_secret": "b"})
    assert "client_secret" not in token and crypto.decrypt(token) == {"client_id": "a", "client_secret": "b"}
    settings.INTEGRATIONS_SECRET_KEY = "k" * 40
    assert crypto.decrypt(token) == {"client_id": "a", "client_secret": "b"}  # SECRET_KEY's key still opens old ones
    newer = crypto.encrypt({"client_id": "c", "client_secret": "d"})
    settings.INTEGRATIONS_SECRET_KEY = "z" * 40
    with pytest.raises(crypto.CredentialsUnreadable):
        crypto.decrypt(newer)
    settings.INTEGRATIONS_SECRET_KEY = "short"
    with pytest.raises(ImproperlyConfigured):
        crypto.encrypt({})


def test_unreadable_credentials_mark_the_connection_failing(sf_connection, settings):
    settings.INTEGRATIONS_SECRET_KEY = "y" * 40
    sf_connection.credentials_encrypted = crypto.encrypt({"client_id": "x"})
    sf_connection.save()
    settings.INTEGRATIONS_SECRET_KEY = "w" * 40
    run = connection_pull(connection_id=sf_connection.pk).run
    sf_connection.refresh_from_db()
    assert run.status == "failed" and sf_connection.status == "failing"
    assert "decrypted" in sf_connection.status_message
