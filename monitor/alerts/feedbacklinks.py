"""The feedback links in alerts: per hit, "Relevant" and "Not relevant" links to
`{public_url}/feedback/{signed}`, where `signed` names the hit, the verdict and when the link
expires, followed by an HMAC-SHA256 over the three keyed by a secret of the database
(monitor.store.sitekeys, made once and shared by every instance). The link page
(monitor.web.feedbacklink) checks it: whoever holds a link may give that verdict on that hit
until it expires, and nothing else; a link with any part changed is refused.

    signed = "<hit id>.<r|n>.<expiry, Unix seconds>.<MAC, base64url, 43 characters>"
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from ipaddress import ip_address

from monitor.config.settings import Settings
from monitor.models import Hit

log = logging.getLogger("monitor.alerts")

PATH = "/feedback/"
_SIGNED = re.compile(r"([1-9][0-9]{0,18})\.([rn])\.([0-9]{1,12})\.([A-Za-z0-9_-]{43})")
_CONTEXT = b"monitor feedback link v1\n"  # the key signs nothing else with these bytes


class BadLink(Exception):
    """A link that gives nothing: `status` 403 (not one this site signed, or changed since)
    or 410 (expired); `message` says so to the person who followed it."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


@dataclass(frozen=True, slots=True)
class SignedVerdict:
    """What a valid link says: this verdict on this hit, until `expires`."""

    hit_id: int
    relevant: bool
    expires: datetime


@dataclass(frozen=True, slots=True)
class Links:
    """One hit's two links, as the templates show them."""

    relevant: str
    not_relevant: str


def sign(key: bytes, hit_id: int, relevant: bool, expires: datetime) -> str:
    """The signed part of a link giving `relevant` on `hit_id` until `expires`."""
    payload = f"{hit_id}.{'r' if relevant else 'n'}.{int(expires.timestamp())}"
    return f"{payload}.{_mac(key, payload)}"


def _mac(key: bytes, payload: str) -> str:
    digest = hmac.new(key, _CONTEXT + payload.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def verify(key: bytes, signed: str, now: datetime) -> SignedVerdict:
    """What `signed` gives, when this site signed it and it has not expired; BadLink (403 or
    410) otherwise. The signature is checked first: a changed expiry is a forgery, not an
    expired link."""
    found = _SIGNED.fullmatch(signed)
    if found is None:
        raise BadLink(403, "This is not a feedback link this monitor made (or it was cut short).")
    hit_id, verdict, expiry, mac = found.groups()
    if not hmac.compare_digest(mac, _mac(key, f"{hit_id}.{verdict}.{expiry}")):
        raise BadLink(
            403,
            "This feedback link was changed after it was sent (its hit, verdict or expiry do "
            "not match its signature), or another monitor made it.",
        )
    try:
        expires = datetime.fromtimestamp(int(expiry), UTC)
    except (OverflowError, ValueError, OSError):  # signed, yet no date: never made here
        raise BadLink(
            403, "This feedback link names no date this monitor could have made."
        ) from None
    if expires <= now:
        raise BadLink(
            410,
            f"This feedback link expired on {expires:%Y-%m-%d %H:%M} UTC. Give your verdict "
            "on the hit's page in the web application instead.",
        )
    return SignedVerdict(int(hit_id), verdict == "r", expires)


class FeedbackLinks:
    """Makes the links of each hit an alert carries. `key` is asked for once, when the first
    link is made (it reads the database); `clock` dates their expiry, `ttl` after it."""

    def __init__(
        self,
        base_url: str,
        key: Callable[[], bytes],
        ttl: timedelta,
        clock: Callable[[], datetime],
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._key_source = key
        self._key: bytes | None = None
        self.ttl = ttl
        self.clock = clock

    def for_hit(self, hit: Hit) -> Links | None:
        """The two links of a stored hit; None for one not stored (a sample)."""
        if hit.id <= 0:
            return None
        if self._key is None:
            self._key = self._key_source()
        expires = self.clock() + self.ttl
        base = self.base_url + PATH
        return Links(
            relevant=base + sign(self._key, hit.id, True, expires),
            not_relevant=base + sign(self._key, hit.id, False, expires),
        )

    def for_hits(self, hits: tuple[Hit, ...]) -> dict[int, Links]:
        """The links of each stored hit among `hits`, by hit id (what the templates get).
        When the key cannot be read (the database failing), the message goes without links
        rather than not at all; the next one tries again."""
        try:
            found = {hit.id: self.for_hit(hit) for hit in hits}
        except Exception:  # whatever the store raised: links are an extra
            log.exception("feedback links left out of a message: the key could not be read")
            return {}
        return {hit_id: links for hit_id, links in found.items() if links is not None}


def public_url(settings: Settings) -> str | None:
    """Where people reach the web application: web.public_url; else, when `monitor run`
    serves it on a fixed port of a named address, http://server.host:server.port; else None
    (no feedback links). A wildcard address (0.0.0.0, ::) names no host to reach."""
    if settings.web.public_url:
        return settings.web.public_url.rstrip("/")
    server = settings.server
    if not server.enabled or server.port == 0:
        return None
    host = server.host
    try:
        address = ip_address(host)
    except ValueError:
        return f"http://{host}:{server.port}"
    if address.is_unspecified:
        return None
    return (
        f"http://[{host}]:{server.port}" if address.version == 6 else f"http://{host}:{server.port}"
    )


def feedback_links(
    settings: Settings, key: Callable[[], bytes], clock: Callable[[], datetime]
) -> FeedbackLinks | None:
    """The links the service's alerts carry, signed with `key` (the database's, asked for
    when the first alert is rendered); None when there is no address to point them at."""
    base = public_url(settings)
    if base is None:
        return None
    return FeedbackLinks(base, key, timedelta(seconds=settings.web.feedback_link_ttl), clock)
