"""Contact methods as stored: the document the API has always written, read back whole."""

from hypothesis import given
from hypothesis import strategies as st

from incident_platform.notification.rules import Channel
from incident_platform.user.codec import Contact, contacts_from_json, contacts_to_json


def test_contacts_are_stored_as_type_and_address() -> None:
    contacts = [
        Contact(Channel.EMAIL, "alice@example.com"),
        Contact(Channel.WEBHOOK, "https://hooks.example.com/alice"),
    ]
    assert contacts_to_json(contacts) == [
        {"type": "email", "address": "alice@example.com"},
        {"type": "webhook", "address": "https://hooks.example.com/alice"},
    ]


@given(st.lists(st.builds(Contact, st.sampled_from(Channel), st.text()), max_size=5))
def test_stored_contacts_read_back_the_same(contacts: list[Contact]) -> None:
    assert contacts_from_json(contacts_to_json(contacts)) == contacts
