"""Contact methods as stored JSON: the explicit mapping between :class:`Contact` and the
document kept in ``users.contact_methods``.

Storage is written and read here and nowhere else (the API's ``ContactMethod`` converts to
and from :class:`Contact`), so the HTTP shape can change without changing what is on disk.
The document is the one the API has always stored: a list of
``{"type": "<channel>", "address": "<address>"}``.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from incident_platform.notification.rules import Channel


@dataclass(frozen=True, slots=True)
class Contact:
    """One way to reach a person: a channel and the address on it."""

    channel: Channel
    address: str


def contacts_to_json(contacts: Iterable[Contact]) -> list[dict[str, Any]]:
    return [{"type": contact.channel.value, "address": contact.address} for contact in contacts]


def contacts_from_json(stored: list[dict[str, Any]]) -> list[Contact]:
    return [Contact(Channel(method["type"]), method["address"]) for method in stored]
