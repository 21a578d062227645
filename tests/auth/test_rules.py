"""Roles rank: an admin may do what a responder may, a responder what a viewer may."""

import pytest

from incident_platform.auth.rules import BOOTSTRAP_ADMIN, Role

RANKED = [Role.VIEWER, Role.RESPONDER, Role.ADMIN]


@pytest.mark.parametrize("held", RANKED)
@pytest.mark.parametrize("required", RANKED)
def test_a_role_allows_what_it_or_any_lower_role_may(held: Role, required: Role) -> None:
    assert held.allows(required) is (RANKED.index(held) >= RANKED.index(required))


def test_every_role_has_a_rank() -> None:
    for role in Role:
        assert role.allows(Role.VIEWER)


def test_the_bootstrap_token_stands_for_an_admin() -> None:
    assert BOOTSTRAP_ADMIN.role is Role.ADMIN
    assert BOOTSTRAP_ADMIN.name == "admin"
