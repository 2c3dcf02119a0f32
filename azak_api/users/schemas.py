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
Moment = Annotated[datetime, msgspec.Meta(tz=True, description="an ISO 8601 time with its UTC offset")]
DailyQuota = Annotated[int, msgspec.Meta(ge=0, le=10_000, description="on-demand runs a KST day")]


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
    expires_at: datetime | None = None  # the account's end: refused from then on (null: never)
    refresh_enabled: bool = True  # may launch on-demand runs (refreshes, one-article predictions)
    refreshes_per_day: int | None = None  # their own daily quota (null: AZAK_ANALYSIS_REFRESHES_PER_DAY)


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
    expires_at: Moment | None = None


class UserUpdate(msgspec.Struct, forbid_unknown_fields=True):
    role: Role | None = None
    is_active: bool | None = None
    password: Password | None = None
    display_name: DisplayName | None = None
    # absent: unchanged; null: never expires / back to the default quota
    expires_at: Moment | msgspec.UnsetType | None = msgspec.UNSET
    refresh_enabled: bool | None = None
    refreshes_per_day: DailyQuota | msgspec.UnsetType | None = msgspec.UNSET


class AuthCheck(msgspec.Struct):
    """Whether the request carries a valid token, and whose."""

    authenticated: bool
    user: User | None


class UserPage(Paged):
    items: list[User]
