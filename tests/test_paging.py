import pytest

from incident_platform.paging import InvalidCursor, decode_cursor, encode_cursor
from incident_platform.storable import MAX_BIGINT


@pytest.mark.parametrize("last_id", [1, 42, 90_000, MAX_BIGINT])
def test_a_cursor_reads_back_as_the_id_it_was_made_from(last_id: int) -> None:
    cursor = encode_cursor(last_id)
    assert "=" not in cursor
    assert decode_cursor(cursor) == last_id


@pytest.mark.parametrize(
    "cursor",
    ["", "not base64 at all!", encode_cursor(0), encode_cursor(MAX_BIGINT + 1), "cG9zOjQy"],
)
def test_a_cursor_this_api_did_not_make_is_refused(cursor: str) -> None:
    with pytest.raises(InvalidCursor, match="cursor is not one this API returned"):
        decode_cursor(cursor)
