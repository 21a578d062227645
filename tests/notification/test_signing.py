"""Acknowledge links: signed, time-limited, bound to one incident, rejected when touched."""

import string
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import SecretStr

from incident_platform.notification.signing import (
    BAD_SIGNATURE,
    EXPIRED,
    MALFORMED,
    AckKeyMissing,
    InvalidAckToken,
    ack_url,
    sign_ack_token,
    verify_ack_token,
)
from incident_platform.settings import Settings

KEY = b"a-test-key-that-is-long-enough-0123456789"
NOW = datetime(2030, 5, 17, 3, 4, 5, tzinfo=UTC)
LATER = NOW + timedelta(hours=24)
URL_SAFE = string.ascii_letters + string.digits + "-_."


def reason(token: str, key: bytes = KEY, now: datetime = NOW) -> str:
    with pytest.raises(InvalidAckToken) as caught:
        verify_ack_token(token, key, now)
    return caught.value.reason


def test_round_trip_returns_the_incident() -> None:
    token = sign_ack_token(42, LATER, KEY)
    assert verify_ack_token(token, KEY, NOW) == 42
    assert set(token) <= set(URL_SAFE)


def test_token_is_bound_to_its_incident() -> None:
    token = sign_ack_token(41, LATER, KEY)
    version, incident, expires, signature = token.split(".")
    assert incident == "41"
    assert reason(f"{version}.42.{expires}.{signature}") == BAD_SIGNATURE


def test_extending_the_expiry_breaks_the_signature() -> None:
    token = sign_ack_token(7, LATER, KEY)
    version, incident, expires, signature = token.split(".")
    longer = str(int(expires) + 86400)
    assert reason(f"{version}.{incident}.{longer}.{signature}") == BAD_SIGNATURE


def test_another_key_is_rejected() -> None:
    token = sign_ack_token(7, LATER, KEY)
    assert reason(token, key=b"some-other-key") == BAD_SIGNATURE


def test_expired_exactly_at_and_after_the_expiry() -> None:
    token = sign_ack_token(7, LATER, KEY)
    assert verify_ack_token(token, KEY, LATER - timedelta(seconds=1)) == 7
    assert reason(token, now=LATER) == EXPIRED
    assert reason(token, now=LATER + timedelta(days=3)) == EXPIRED


def test_expiry_is_compared_across_time_zones() -> None:
    token = sign_ack_token(7, LATER, KEY)
    plus_ten = timezone(timedelta(hours=10))
    assert verify_ack_token(token, KEY, (LATER - timedelta(minutes=1)).astimezone(plus_ten)) == 7
    assert reason(token, now=LATER.astimezone(plus_ten)) == EXPIRED


def test_a_forged_token_cannot_learn_it_has_expired() -> None:
    token = sign_ack_token(7, NOW - timedelta(days=1), KEY)
    assert reason(token, key=b"wrong") == BAD_SIGNATURE
    assert reason(token) == EXPIRED


@pytest.mark.parametrize(
    "token",
    [
        "",
        "v1",
        "v1.42",
        "v1.42.1900000000",
        "v2.42.1900000000.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "v1.042.1900000000.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "v1.-42.1900000000.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "v1.+42.1900000000.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "v1.4_2.1900000000.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "v1.0.1900000000.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "v1.42.1900000000.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "v1.42.1900000000.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "v1.42.1900000000.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA+",
        "v1.42.1900000000.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.x",
        " v1.42.1900000000.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "v1.42.1900000000.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n",
        "v1.99999999999999999999.1900000000.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "v1.9999999999999999999.1900000000.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "v1.42.1900000000.ÄAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "x" * 10_000,
    ],
)
def test_malformed_tokens_are_rejected(token: str) -> None:
    assert reason(token) == MALFORMED


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        sign_ack_token(1, datetime(2030, 1, 1), KEY)
    with pytest.raises(ValueError, match="timezone-aware"):
        verify_ack_token(sign_ack_token(1, LATER, KEY), KEY, datetime(2030, 1, 1))


def test_an_empty_key_is_refused() -> None:
    with pytest.raises(ValueError, match="empty"):
        sign_ack_token(1, LATER, b"")
    with pytest.raises(ValueError, match="empty"):
        verify_ack_token("v1.1.1.x", b"", NOW)


@given(
    incident_id=st.integers(min_value=1, max_value=2**63 - 1),
    key=st.binary(min_size=1, max_size=64),
    ttl=st.integers(min_value=1, max_value=7 * 86400),
)
def test_any_token_round_trips_until_it_expires(incident_id: int, key: bytes, ttl: int) -> None:
    expires_at = NOW + timedelta(seconds=ttl)
    token = sign_ack_token(incident_id, expires_at, key)
    assert verify_ack_token(token, key, NOW) == incident_id
    with pytest.raises(InvalidAckToken):
        verify_ack_token(token, key, expires_at)


@given(
    incident_id=st.integers(min_value=1, max_value=10**9),
    position=st.integers(min_value=0),
    replacement=st.sampled_from(URL_SAFE),
)
def test_changing_any_one_character_is_rejected(
    incident_id: int, position: int, replacement: str
) -> None:
    token = sign_ack_token(incident_id, LATER, KEY)
    index = position % len(token)
    if token[index] == replacement:
        return
    tampered = token[:index] + replacement + token[index + 1 :]
    with pytest.raises(InvalidAckToken) as caught:
        verify_ack_token(tampered, KEY, NOW)
    assert caught.value.reason in (MALFORMED, BAD_SIGNATURE)


def test_ack_url_points_at_the_oncall_service() -> None:
    settings = Settings(
        ack_signing_key=SecretStr(KEY.decode()),
        oncall_public_url="https://oncall.example.test/",
        ack_link_ttl_seconds=3600,
    )
    url = ack_url(settings, 42, NOW)
    prefix = "https://oncall.example.test/api/v1/ack/"
    assert url.startswith(prefix)
    token = url.removeprefix(prefix)
    assert verify_ack_token(token, KEY, NOW + timedelta(minutes=59)) == 42
    assert reason(token, now=NOW + timedelta(hours=1)) == EXPIRED


def test_ack_url_keeps_a_path_prefix() -> None:
    settings = Settings(
        ack_signing_key=SecretStr("k"),
        oncall_public_url="https://example.test/oncall",
    )
    assert ack_url(settings, 1, NOW).startswith("https://example.test/oncall/api/v1/ack/v1.1.")


def test_ack_url_needs_a_key() -> None:
    with pytest.raises(AckKeyMissing):
        ack_url(Settings(ack_signing_key=None), 1, NOW)
