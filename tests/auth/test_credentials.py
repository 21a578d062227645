"""Minting and comparing credentials: prefixes, visible part, digest, no clear text in repr."""

import hashlib

from incident_platform.auth.credentials import (
    VISIBLE_PREFIX_CHARS,
    digests_match,
    hash_secret,
    integration_key_prefix,
    masked,
    mint,
    token_prefix,
)
from incident_platform.auth.rules import IntegrationKind, Role


def test_minted_credential_keeps_only_digest_and_visible_prefix() -> None:
    credential = mint("ipt_a")

    assert credential.clear.startswith("ipt_a_")
    # 32 random bytes in URL-safe base64 are 43 characters.
    assert len(credential.clear) == len("ipt_a_") + 43
    assert credential.digest == hashlib.sha256(credential.clear.encode()).hexdigest()
    assert credential.visible_prefix == credential.clear[:14]
    assert len(credential.visible_prefix) == len("ipt_a_") + VISIBLE_PREFIX_CHARS
    assert credential.clear not in repr(credential)


def test_two_mints_never_collide() -> None:
    minted = {mint("ik_ge").clear for _ in range(200)}
    assert len(minted) == 200


def test_prefixes_name_role_and_kind() -> None:
    assert [token_prefix(role) for role in Role] == ["ipt_v", "ipt_r", "ipt_a"]
    assert [integration_key_prefix(kind) for kind in IntegrationKind] == [
        "ik_ge",
        "ik_al",
        "ik_pa",
    ]


def test_hash_is_sha256_hex_and_comparison_is_by_digest() -> None:
    assert hash_secret("abc") == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    )
    assert digests_match("s3cret", "s3cret")
    assert not digests_match("s3cret", "s3cret ")
    assert masked("ipt_a_abcdefgh") == "ipt_a_abcdefgh…"


def test_roles_rank_viewer_responder_admin() -> None:
    assert Role.ADMIN.allows(Role.RESPONDER)
    assert Role.RESPONDER.allows(Role.VIEWER)
    assert not Role.VIEWER.allows(Role.RESPONDER)
    assert not Role.RESPONDER.allows(Role.ADMIN)
