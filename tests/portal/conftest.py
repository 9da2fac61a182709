"""Two partner organisations, each with a partner admin and a member, for every portal test (the isolation tests
try each portal URL of one with the other's ids). Rows are made directly: the portal's services are what is tested."""

import pytest

from portal.models import Membership
from tests.factories import PartnerFactory, UserFactory, tier


def make_member(partner, *, role=Membership.Role.MEMBER, username=None, **user_fields):
    user = UserFactory(username=username, **user_fields) if username else UserFactory(**user_fields)
    return Membership.objects.create(user=user, partner=partner, role=role)


@pytest.fixture
def acme(db, rep):
    """Partner "Acme Distribution" (Gold), assigned to ``rep``."""
    return PartnerFactory(name="Acme Distribution", tier=tier("Gold"), assigned_to=rep)


@pytest.fixture
def globex(db, other_rep):
    """Partner "Globex Resellers" (Silver), assigned to ``other_rep``."""
    return PartnerFactory(name="Globex Resellers", tier=tier("Silver"), assigned_to=other_rep)


@pytest.fixture
def acme_admin(acme):
    return make_member(acme, role=Membership.Role.ADMIN, username="ada", first_name="Ada", last_name="Admin",
                       email="ada@acme.example")


@pytest.fixture
def acme_member(acme):
    return make_member(acme, username="max", first_name="Max", last_name="Member", email="max@acme.example")


@pytest.fixture
def globex_admin(globex):
    return make_member(globex, role=Membership.Role.ADMIN, username="gina", first_name="Gina", last_name="Globex",
                       email="gina@globex.example")


@pytest.fixture
def acme_client(client, acme_admin):
    client.force_login(acme_admin.user)
    return client


@pytest.fixture
def globex_client(client, globex_admin):
    client.force_login(globex_admin.user)
    return client
