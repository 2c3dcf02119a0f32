"""Users and authentication: request and response types."""

from datetime import datetime
from typing import Annotated, Literal

import msgspec

from azak_api.pages import Paged
from azak_core.patterns import whole

_ADDRESS_CHAR = r"[^@\s\x00-\x1f\x7f-\x9f\ufeff]"  # no spaces or control characters (C0, DEL, C1, BOM)
Email = Annotated[str, msgspec.Meta(pattern=whole(rf"{_ADDRESS_CHAR}{{1,64}}@{_ADDRESS_CHAR}{{1,255}}"), max_length=320,
                                    description="an e-mail address")]
Password = Annotated[str, msgspec.Meta(min_length=10, max_length=128,
                                       description="10 to 128 characters")]
Role = Literal["user", "admin"]
DisplayName = Annotated[str, msgspec.Meta(max_length=100, pattern=whole(r"[^\x00-\x1f\x7f]*"))]


class LoginRequest(msgspec.Struct, forbid_unknown_fields=True):
    email: Email
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=128)]


class User(msgspec.Struct):
    id: int
    email: str
    role: Role
    display_name: str | None
    is_active: bool
    created_at: datetime
    last_login_at: datetime | None


class LoginResponse(msgspec.Struct):
    access_token: str
    token_type: str
    expires_in: int
    user: User


class UserCreate(msgspec.Struct, forbid_unknown_fields=True):
    email: Email
    password: Password
    role: Role = "user"
    display_name: DisplayName | None = None


class UserUpdate(msgspec.Struct, forbid_unknown_fields=True):
    role: Role | None = None
    is_active: bool | None = None
    password: Password | None = None
    display_name: DisplayName | None = None


class UserPage(Paged):
    items: list[User]
