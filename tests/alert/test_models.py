"""What a generic sender may post (``AlertCreate``): the defaults it gets, and each refusal
naming the field, as the 422 the route answers carries it."""

import pytest
from pydantic import ValidationError

from incident_platform.alert.correlation import AlertStatus
from incident_platform.alert.models import AlertCreate
from incident_platform.severity import Severity


def refused(**fields: object) -> list[tuple[tuple[str | int, ...], str]]:
    with pytest.raises(ValidationError) as error:
        AlertCreate.model_validate(fields)
    return [(tuple(item["loc"]), item["msg"]) for item in error.value.errors()]


def test_the_least_a_sender_posts_is_a_firing_warning_without_labels() -> None:
    alert = AlertCreate.model_validate({"service": "  checkout ", "summary": " Errors up "})
    assert (alert.service, alert.summary) == ("checkout", "Errors up")
    assert (alert.status, alert.severity) == (AlertStatus.FIRING, Severity.WARNING)
    assert (alert.fingerprint, alert.labels, alert.annotations) == (None, {}, {})


@pytest.mark.parametrize("field", ["service", "summary"])
def test_blank_service_or_summary_is_refused_by_name(field: str) -> None:
    fields = {"service": "checkout", "summary": "Errors up", field: "   "}
    assert refused(**fields) == [((field,), "Value error, must not be blank")]


def test_unknown_severity_and_status_are_refused_by_name() -> None:
    problems = refused(service="s", summary="x", severity="apocalyptic", status="burning")
    assert sorted(location for location, _ in problems) == [("severity",), ("status",)]


def test_lengths_are_those_the_columns_hold() -> None:
    assert [loc for loc, _ in refused(service="s" * 256, summary="x")] == [("service",)]
    assert [loc for loc, _ in refused(service="s", summary="x" * 1025)] == [("summary",)]
    assert [loc for loc, _ in refused(service="s", summary="x", fingerprint="")] == [
        ("fingerprint",)
    ]
    AlertCreate.model_validate({"service": "s" * 255, "summary": "x" * 1024})


def test_text_postgresql_cannot_store_is_refused_where_it_is() -> None:
    [(location, message)] = refused(service="s", summary="x", labels={"team": "ops\x00"})
    assert location == ("labels",)
    assert "['team'] contains a NUL character" in message
    # A lone surrogate: pydantic itself refuses it from Python (from JSON, the storable
    # check does, tests/api/test_hostile_input.py); either way the field is named.
    [(location, _)] = refused(service="s", summary="bad \ud800 text")
    assert location == ("summary",)


def test_instants_outside_the_accepted_range_are_refused() -> None:
    assert [
        loc for loc, _ in refused(service="s", summary="x", starts_at="1969-12-31T23:59:59Z")
    ] == [("starts_at",)]
    alert = AlertCreate.model_validate(
        {"service": "s", "summary": "x", "ends_at": "2199-12-31T00:00:00"}
    )
    assert alert.ends_at is not None
    assert alert.ends_at.year == 2199
