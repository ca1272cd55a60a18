"""Slowing down password guessing, with counts in the database so every app instance agrees.

Failures are counted under three keys for each attempt:
- the account name from this client address: a few free failures, then exponential backoff.
  This is what stops one guesser, and only that guesser: the person signing in from their own
  address is not slowed by someone else's failures there.
- the client address, whatever names it tries (password spraying from one address);
- the account name from anywhere (guessing spread over many addresses), with NIST SP 800-63B's
  ceiling of 100 failures.
Past its allowance a key waits 1 minute, then 2, 4, 8, ... up to the lock time (15 minutes by
default); a key quiet for the lock time starts over. A success clears the name's two keys (not
the address's: one's own account must not launder a spraying address).

The trade-off: an attacker can keep an account name slowed for everyone only by spending more than
100 failures per lock time on it, and those need many addresses because each address is held
back by its own keys; the person's own wait is never longer than the lock time. A lower
per-account ceiling would stop distributed guessing sooner but would let anyone lock a person
out cheaply, so that limit stays high and the tight limits are per address.

Unknown names count like real ones (and are answered as slowly), so the throttle tells nothing
about which accounts exist. Keys are HMACs under FLASK_SECRET: the table holds no names (people
type passwords into the name field) and no addresses.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import math
from dataclasses import dataclass
from datetime import timedelta

from ...backends import Backends
from ...data import sign_in_failures as failure_data
from ...data.db import retry_on_deadlock, sweep, utcnow
from ...data.users import username_key
from ...observability import metrics
from ..errors import TooManyAttempts

log = logging.getLogger(__name__)
FIRST_WAIT = timedelta(minutes=1)


@dataclass(frozen=True)
class Keys:
    """The throttle's keys for one attempt, as stored (HMACs)."""

    pair: str
    address: str
    account: str

    def name_keys(self) -> tuple[str, str]:
        return (self.pair, self.account)


def keys_for(backends: Backends, username: str, address: str) -> Keys:
    name, net = username_key((username or "").strip()), _network(address)
    secret = hashlib.sha256(b"sign-in throttle\0" + backends.settings.secret_key.encode())
    digest = secret.digest()

    def key(*parts: str) -> str:
        return hmac.new(digest, "\0".join(parts).encode(), hashlib.sha256).hexdigest()

    return Keys(
        pair=key("pair", name, net), address=key("address", net), account=key("account", name)
    )


def refuse_if_locked(backends: Backends, keys: Keys) -> None:
    """Raise TooManyAttempts while any of the attempt's keys waits."""
    now = utcnow()
    with backends.engine.connect() as conn:
        until = failure_data.locked_until(conn, (keys.pair, keys.address, keys.account), now)
    if until is not None:
        raise TooManyAttempts(math.ceil((until - now).total_seconds()))


def record_failure(backends: Backends, keys: Keys) -> None:
    metrics.sign_in_failed()
    settings = backends.settings
    now = utcnow()
    window = timedelta(minutes=settings.sign_in_lock_minutes)
    allowances = (
        (keys.pair, settings.sign_in_max_failures),
        (keys.address, settings.sign_in_max_failures_per_address),
        (keys.account, settings.sign_in_max_failures_per_account),
    )

    def count_failure(conn) -> None:
        for key, allowance in allowances:
            failures = failure_data.add_failure(conn, key, now, now - window)
            if failures >= allowance:
                wait = _wait(failures - allowance, window)
                failure_data.lock(conn, key, now + wait)
                log.warning(
                    "sign-in throttled: %s failures on one key, next try in %d s",
                    failures,
                    int(wait.total_seconds()),
                )

    retry_on_deadlock(backends.engine, count_failure)
    sweep(backends.engine, failure_data.delete_quiet_since, now - window)


def record_success(backends: Backends, keys: Keys) -> None:
    with backends.engine.begin() as conn:
        failure_data.clear(conn, keys.name_keys())


def _wait(excess: int, longest: timedelta) -> timedelta:
    """1 minute at the allowance, doubling with each failure past it, at most ``longest``."""
    if excess >= 20:  # 2**20 minutes is far past any lock time; no huge powers
        return longest
    return min(FIRST_WAIT * 2**excess, longest)


def _network(address: str) -> str:
    """An IPv4 address, or the /64 an IPv6 address is in (one household or server gets a
    whole /64, so single IPv6 addresses would be free to rotate)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address or "unknown"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)
