"""The per-user daily quota of on-demand work: report refreshes (and on-demand predictions of one
article, which draw on the same quota when they come). Each user may be allowed or not
(``app.users.refresh_enabled``) and may have a quota of their own (``refreshes_per_day``; none:
``AZAK_ANALYSIS_REFRESHES_PER_DAY``).

Slots 1..N of a user's KST day are unique rows of ``app.quota_slots``: taking one is an INSERT that
either wins the row or finds it taken, in its own short transaction, so parallel requests cannot
pass the quota together and no lock is held while the run launches. Work that fails to start gives
its slot back, so a failed launch does not spend the quota.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, datetime

from litestar.exceptions import PermissionDeniedException
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from azak_api.auth import CurrentUser
from azak_api.errors import TooMany
from azak_core.market import KST

FREE_SLOTS = text(
    "SELECT s FROM generate_series(1, :limit) AS s EXCEPT "
    "SELECT slot FROM app.quota_slots WHERE user_id = :user AND kst_day = :day ORDER BY 1")
TAKE = text("INSERT INTO app.quota_slots (user_id, kst_day, slot, purpose) VALUES (:user, :day, :slot, :purpose) "
            "ON CONFLICT DO NOTHING RETURNING slot")
RELEASE = text("DELETE FROM app.quota_slots WHERE user_id = :user AND kst_day = :day AND slot = :slot")


async def _take(engine: AsyncEngine, user_id: int, day: date, limit: int, purpose: str) -> tuple[int, int] | None:
    """A free slot (and how many stay free), or None when the day's slots are all taken."""
    key = {"user": user_id, "day": day}
    async with engine.connect() as conn:
        free: list[int] = list((await conn.execute(FREE_SLOTS, {**key, "limit": limit})).scalars())
    for tried, slot in enumerate(free, start=1):
        async with engine.begin() as conn:  # waits only for a parallel request taking this very slot
            if (await conn.execute(TAKE, {**key, "slot": slot, "purpose": purpose})).first():
                return slot, len(free) - tried
    return None


def daily_limit(user: CurrentUser, default: int) -> int:
    """How many on-demand runs ``user`` may launch a KST day; raises 403 when they may launch none."""
    if not user.refresh_enabled:
        raise PermissionDeniedException("on-demand runs are turned off for your account; ask an administrator")
    limit = default if user.refreshes_per_day is None else user.refreshes_per_day
    if limit <= 0:
        where = ("AZAK_ANALYSIS_REFRESHES_PER_DAY=0" if user.refreshes_per_day is None
                 else "your account's quota is 0")
        raise PermissionDeniedException(f"on-demand runs are reserved to admins ({where})")
    return limit


@asynccontextmanager
async def quota_slot(engine: AsyncEngine, user: CurrentUser, default: int, now: datetime,
                     purpose: str) -> AsyncIterator[int | None]:
    """Hold one of ``user``'s slots of the KST day of ``now`` (their own quota, else ``default``)
    for the work in the block; yields how many stay free (None for admins, who are not limited).
    Refuses with 403 when the user may not launch runs and with 429 when the day's slots are
    taken; an error in the block frees the slot."""
    if user.is_admin:
        yield None
        return
    limit = daily_limit(user, default)
    day = now.astimezone(KST).date()
    taken = await _take(engine, user.id, day, limit, purpose)
    if taken is None:
        raise TooMany(f"daily limit of {limit} on-demand runs reached (refreshes and predictions count "
                      "alike); try again tomorrow (KST)")
    slot, left = taken
    try:
        yield left
    except Exception:
        async with engine.begin() as conn:
            await conn.execute(RELEASE, {"user": user.id, "day": day, "slot": slot})
        raise
