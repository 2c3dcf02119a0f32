"""Login, logout, the optional-auth check, the current user, and user management (admin)."""

import math
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.datastructures import Cookie
from litestar.exceptions import NotAuthorizedException, TooManyRequestsException
from litestar.params import Parameter
from litestar.security.jwt import Token
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from azak_api.auth import (
    ANONYMOUS,
    COOKIE,
    PUBLIC,
    SECURED,
    AuthState,
    CurrentUser,
    SessionTokens,
    account_expired,
    admin_only,
    hash_password,
)
from azak_api.cache import INVALIDATES, ResponseCache
from azak_api.db import MAX_ID
from azak_api.errors import Conflict, NotFound, error_responses
from azak_api.moments import end_date
from azak_api.pages import paging
from azak_api.users import queries
from azak_api.users.schemas import (
    AuthCheck,
    LoginRequest,
    LoginResponse,
    User,
    UserCreate,
    UserPage,
    UserUpdate,
)

# a hash to compare against when the e-mail is unknown, so both paths take the same time
_DUMMY_HASH = hash_password("no-such-user-" + uuid.uuid4().hex)
UserId = Annotated[int, Parameter(ge=1, le=MAX_ID, description="user id")]


def as_user(row: queries.UserRow) -> User:
    return User(id=row.id, email=row.email, role=row.role, display_name=row.display_name,  # type: ignore[arg-type]
                is_active=row.is_active, created_at=row.created_at, last_login_at=row.last_login_at,
                expires_at=row.expires_at, refresh_enabled=row.refresh_enabled,
                refreshes_per_day=row.refreshes_per_day)


async def changes_of(data: UserUpdate, auth_state: AuthState) -> dict[str, Any]:
    """The columns a PATCH sets (an absent field keeps its value; a null expiry or quota clears it)."""
    changes: dict[str, Any] = {name: getattr(data, name) for name in
                               ("role", "is_active", "display_name", "refresh_enabled")
                               if getattr(data, name) is not None}
    for name in ("expires_at", "refreshes_per_day"):
        if getattr(data, name) is not msgspec.UNSET:
            changes[name] = getattr(data, name)
    if changes.get("expires_at") is not None:
        end_date("expires_at", changes["expires_at"])
    if data.password is not None:
        changes["password_hash"] = await auth_state.hash_password(data.password)
    return changes


class AuthController(Controller):
    path = "/api/auth"
    tags = ["auth"]

    @post("/login", operation_id="login", opt={PUBLIC: True, INVALIDATES: ()}, security=ANONYMOUS, status_code=200,
          summary="Log in with e-mail and password",
          description="Sets the HttpOnly `azak_session` cookie (24 h) and returns the same token for "
                      "`Authorization: Bearer` use. At most 10 attempts a minute per account and 30 per "
                      "client address (sliding windows), then 429 with `Retry-After`.",
          responses=error_responses(401, 413, 429))
    async def login(self, request: Request[Any, Any, Any], data: LoginRequest, auth_state: AuthState,
                    tokens: SessionTokens, tx: AsyncConnection,
                    clock: Callable[[], datetime]) -> Response[LoginResponse]:
        wait = await auth_state.login_allowed(data.email, auth_state.caller_address(request))
        if wait is not None:
            raise TooManyRequestsException("too many login attempts; try again later",
                                           headers={"Retry-After": str(math.ceil(wait))})
        found = await queries.credentials(tx, data.email)
        valid = await auth_state.verify_password(found.password_hash if found else _DUMMY_HASH, data.password)
        if found is None or not valid or not found.is_active:
            raise NotAuthorizedException("wrong e-mail or password, or the account is disabled")
        if found.expires_at is not None and found.expires_at <= clock():  # said only to the right password
            raise account_expired(found.expires_at)
        row = await queries.touch_login(tx, found.id)
        token = tokens.issue(row.id, row.role, row.token_version)
        expires_in = tokens.expires_in
        body = LoginResponse(access_token=token, token_type="bearer", expires_in=expires_in, user=as_user(row))
        return Response(body, cookies=[Cookie(key=COOKIE, value=token, max_age=expires_in, httponly=True,
                                              secure=tokens.secure, samesite="lax", path="/")])

    @get("/check", operation_id="checkAuth", opt={PUBLIC: True}, security=ANONYMOUS, cache=False,
         summary="Whether the request carries a valid token, and whose (with or without a token)",
         description="Never 401: an absent, expired, revoked or tampered token, or an expired or "
                     "disabled account, answers `{\"authenticated\": false, \"user\": null}`.")
    async def check(self, request: Request[Any, Any, Any], auth_state: AuthState,
                    db: AsyncConnection) -> AuthCheck:
        holder = await auth_state.optional_user(request)
        row = await queries.by_id(db, holder.id) if holder is not None else None
        return AuthCheck(authenticated=row is not None, user=as_user(row) if row is not None else None)

    @post("/logout", operation_id="logout", security=SECURED, status_code=200, summary="Revoke the current token",
          responses=error_responses(401),
          opt={INVALIDATES: ()})
    async def logout(self, request: Request[CurrentUser, Token, Any], current_user: CurrentUser,
                     auth_state: AuthState) -> Response[dict[str, str]]:
        await auth_state.revoke(request.auth, current_user.id)
        response: Response[dict[str, str]] = Response({"detail": "logged out"})
        response.delete_cookie(COOKIE, path="/")
        return response


class UserController(Controller):
    path = "/api/users"
    tags = ["users"]
    security = SECURED

    @get("/me", operation_id="getCurrentUser", summary="The logged-in user", responses=error_responses(401),
         opt={"cache": "me"}, cache=True)  # keyed by caller (the default scope)
    async def me(self, db: AsyncConnection, current_user: CurrentUser) -> User:
        row = await queries.by_id(db, current_user.id)
        if row is None:
            raise NotFound("the user no longer exists")
        return as_user(row)

    @get("/", operation_id="listUsers", guards=[admin_only], summary="List users (admin)",
         responses=error_responses(401, 403))
    async def list_users(self, db: AsyncConnection,
                         page: Annotated[int, Parameter(ge=1, le=100_000)] = 1,
                         page_size: Annotated[int, Parameter(ge=1, le=200)] = 50) -> UserPage:
        rows, total = await queries.page(db, (page - 1) * page_size, page_size)
        return UserPage([as_user(r) for r in rows], **paging(total, page, page_size))

    @post("/", operation_id="createUser", guards=[admin_only], summary="Create a user (admin)",
          responses=error_responses(401, 403, 409, 413),
          opt={INVALIDATES: ()})
    async def create_user(self, data: UserCreate, tx: AsyncConnection, auth_state: AuthState) -> User:
        if data.expires_at is not None:
            end_date("expires_at", data.expires_at)
        password_hash = await auth_state.hash_password(data.password)
        row = await queries.create(tx, data.email, password_hash, data.role, data.display_name, data.expires_at)
        if row is None:
            raise Conflict(f"a user with e-mail {data.email.lower()} already exists")
        return as_user(row)

    @get("/{user_id:int}", operation_id="getUser", guards=[admin_only], summary="One user (admin)",
         responses=error_responses(401, 403, 404))
    async def get_user(self, db: AsyncConnection, user_id: UserId) -> User:
        row = await queries.by_id(db, user_id)
        if row is None:
            raise NotFound(f"no user {user_id}")
        return as_user(row)

    @patch("/{user_id:int}", operation_id="updateUser", guards=[admin_only],
           summary="Change a user's role, status, password, name, expiry or on-demand quota (admin)",
           description="A new password or a change of status ends the user's sessions: tokens issued "
                       "before are refused. Past `expires_at` the user is refused at login and on every "
                       "request (null: never expires). `refresh_enabled` and `refreshes_per_day` (null: "
                       "AZAK_ANALYSIS_REFRESHES_PER_DAY) govern their on-demand runs.",
           responses=error_responses(401, 403, 404, 409, 413),
           opt={INVALIDATES: ("me", "analysis")})  # a role change changes what analysis shows
    async def update_user(self, request: Request[CurrentUser, Token, Any], user_id: UserId, data: UserUpdate,
                          current_user: CurrentUser, auth_state: AuthState, response_cache: ResponseCache,
                          engine: AsyncEngine, clock: Callable[[], datetime]) -> User:
        changes = await changes_of(data, auth_state)
        ends = changes.get("expires_at")
        if user_id == current_user.id and (changes.get("role") == "user" or changes.get("is_active") is False
                                           or (ends is not None and ends <= clock())):
            raise Conflict("admins cannot demote, disable or expire themselves")
        async with engine.begin() as conn:  # committed before the caches below forget the user
            row = await queries.update(conn, user_id, changes) if changes else await queries.by_id(conn, user_id)
        if row is None:
            raise NotFound(f"no user {user_id}")
        auth_state.forget_user(user_id)
        await response_cache.invalidate(request.route_handler)
        return as_user(row)

    @delete("/{user_id:int}", operation_id="deactivateUser", guards=[admin_only], status_code=200,
            summary="Deactivate a user (admin); their tokens stop working",
            responses=error_responses(401, 403, 404, 409),
            opt={INVALIDATES: ("me",)})
    async def deactivate_user(self, request: Request[CurrentUser, Token, Any], user_id: UserId,
                              current_user: CurrentUser, auth_state: AuthState, response_cache: ResponseCache,
                              engine: AsyncEngine) -> User:
        if user_id == current_user.id:
            raise Conflict("admins cannot deactivate themselves")
        async with engine.begin() as conn:
            row = await queries.update(conn, user_id, {"is_active": False})
        if row is None:
            raise NotFound(f"no user {user_id}")
        auth_state.forget_user(user_id)
        await response_cache.invalidate(request.route_handler)
        return as_user(row)
