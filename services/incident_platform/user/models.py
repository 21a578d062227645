"""HTTP shapes of users and their contact methods."""

import uuid
from datetime import datetime

from email_validator import EmailNotValidError, validate_email
from pydantic import AnyHttpUrl, ConfigDict, ValidationInfo, field_validator
from sqlmodel import Field, SQLModel

from incident_platform.notification.rules import Channel
from incident_platform.storable import StorableModel
from incident_platform.user.codec import Contact
from incident_platform.user.tables import UserBase


def check_http_url(value: str) -> str:
    url = AnyHttpUrl(value)
    if not url.host:
        raise ValueError("must be an http(s) URL with a host")
    return value


class ContactMethod(StorableModel):
    model_config = ConfigDict(extra="forbid")

    type: Channel
    address: str

    @field_validator("address")
    @classmethod
    def _address_fits_type(cls, value: str, info: ValidationInfo) -> str:
        if not value or len(value) > 2048:
            raise ValueError("must be 1 to 2048 characters")
        kind = info.data.get("type")
        if kind is Channel.EMAIL:
            try:
                validate_email(value, check_deliverability=False)
            except EmailNotValidError as error:
                raise ValueError(f"not an e-mail address: {error}") from error
        elif kind in (Channel.WEBHOOK, Channel.SLACK):
            check_http_url(value)
        return value

    def contact(self) -> Contact:
        return Contact(self.type, self.address)

    @classmethod
    def from_contact(cls, contact: Contact) -> "ContactMethod":
        return cls(type=contact.channel, address=contact.address)


class UserCreate(UserBase):
    contact_methods: list[ContactMethod] = Field(default_factory=list, max_length=20)


class UserPublic(UserBase):
    id: uuid.UUID
    contact_methods: list[ContactMethod]
    created_at: datetime


class UsersPublic(SQLModel):
    data: list[UserPublic]
    count: int
