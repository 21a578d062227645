"""A user's contact methods: the address must suit its channel."""

import pytest
from pydantic import ValidationError

from incident_platform.notification.rules import Channel
from incident_platform.user.codec import Contact
from incident_platform.user.models import ContactMethod, UserCreate


def refusal(**fields: object) -> str:
    with pytest.raises(ValidationError) as error:
        ContactMethod.model_validate(fields)
    [problem] = error.value.errors()
    assert problem["loc"] == ("address",)
    return str(problem["msg"])


def test_each_channel_takes_its_kind_of_address() -> None:
    for channel, address in [
        ("email", "alice@example.com"),
        ("webhook", "https://hooks.example.com/pager"),
        ("slack", "https://hooks.slack.com/services/T/B/x"),
    ]:
        method = ContactMethod.model_validate({"type": channel, "address": address})
        assert method.contact() == Contact(Channel(channel), address)
        assert ContactMethod.from_contact(method.contact()) == method


def test_addresses_that_do_not_fit_their_channel_are_refused() -> None:
    assert "not an e-mail address" in refusal(type="email", address="alice")
    assert "URL" in refusal(type="webhook", address="not a url")
    assert "URL" in refusal(type="slack", address="mailto:alice@example.com")
    assert "1 to 2048 characters" in refusal(type="webhook", address="")
    assert "1 to 2048 characters" in refusal(
        type="webhook", address="https://example.com/" + "x" * 2048
    )


def test_unknown_fields_and_too_many_methods_are_refused() -> None:
    with pytest.raises(ValidationError) as error:
        ContactMethod.model_validate({"type": "email", "address": "a@example.com", "pager": 1})
    assert [item["loc"] for item in error.value.errors()] == [("pager",)]
    methods = [{"type": "email", "address": f"a{n}@example.com"} for n in range(21)]
    with pytest.raises(ValidationError) as error:
        UserCreate.model_validate(
            {"name": "a", "email": "a@example.com", "timezone": "UTC", "contact_methods": methods}
        )
    assert [item["loc"] for item in error.value.errors()] == [("contact_methods",)]
