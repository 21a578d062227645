from incident_platform.alert.fingerprint import derive_fingerprint


def test_label_order_does_not_matter() -> None:
    first = derive_fingerprint("api", "down", {"a": "1", "b": "2"})
    second = derive_fingerprint("api", "down", {"b": "2", "a": "1"})
    assert first == second


def test_each_part_changes_the_fingerprint() -> None:
    base = derive_fingerprint("api", "down", {"a": "1"})
    assert derive_fingerprint("web", "down", {"a": "1"}) != base
    assert derive_fingerprint("api", "up", {"a": "1"}) != base
    assert derive_fingerprint("api", "down", {"a": "2"}) != base
    assert derive_fingerprint("api", "down", {}) != base


def test_parts_cannot_be_shifted_into_each_other() -> None:
    assert derive_fingerprint("ab", "c", {}) != derive_fingerprint("a", "bc", {})
