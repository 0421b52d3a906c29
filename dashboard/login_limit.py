"""The password-guessing limit of /login and /api/v1/token: one atomic count in Redis before any verify.

An attempt takes a slot from two fixed windows, its user name from its address and its address over
all names, in one Lua script; only an attempt that got both slots reaches argon2. Counting first is
what holds under parallel requests: checking, verifying, then counting lets every request that
arrives during the first verification through. A successful login gives its slot back, so only
failures use up the window and a user who logs in often is never locked out by that.

Flask-Limiter counts requests and, with `deduct_when`, deducts failures only after the response,
which is the check-then-count race again; hence this small script.
"""

from __future__ import annotations

WINDOW_S = 300
NAME_LIMIT = 5  # verified failures per user name and address within the window
ADDRESS_LIMIT = 100  # verified failures per address, whatever the names (a spray over many names)
NAME_KEY = "gridwatch:login:fail:"
ADDRESS_KEY = "gridwatch:login:addr:"

# Both counters move together; the window starts with the first attempt and is never extended.
_TAKE = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
local a = redis.call('INCR', KEYS[2])
if a == 1 then redis.call('EXPIRE', KEYS[2], ARGV[1]) end
if n > tonumber(ARGV[2]) or a > tonumber(ARGV[3]) then return 0 end
return 1
"""
# DECR of a key whose window has ended would make a counter without expiry: only existing keys.
_GIVE_BACK = """
for _, k in ipairs(KEYS) do
  if redis.call('EXISTS', k) == 1 then redis.call('DECR', k) end
end
return 1
"""


def name_key(username: str, address: str) -> str:
    """The Redis key counting attempts at this user name (case-blind) from this address."""
    # Real names have at most 64 characters; a longer guess is cut rather than stored whole.
    return f"{NAME_KEY}{username.strip().lower()[:65]}:{address}"


def address_key(address: str) -> str:
    """The Redis key counting attempts from this address at any name."""
    return f"{ADDRESS_KEY}{address}"


def take_attempt(r, username: str, address: str) -> bool:
    """Count one attempt atomically; True when it is within both limits and may be verified."""
    keys = (name_key(username, address), address_key(address))
    return bool(r.eval(_TAKE, 2, *keys, WINDOW_S, NAME_LIMIT, ADDRESS_LIMIT))


def give_back(r, username: str, address: str) -> None:
    """Return the slot of an attempt that logged in: only failures use up the window."""
    r.eval(_GIVE_BACK, 2, name_key(username, address), address_key(address))
