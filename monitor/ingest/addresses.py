"""Which addresses a fetch may connect to (SSRF policy): public ones, the trusted origin (the
configured URL's own, or the feed's for its links), and networks opened with
`fetch.allow_networks`; checked on resolved addresses at connect time."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable

from aiohttp.abc import AbstractResolver, ResolveResult
from yarl import URL

from monitor.errors import FetchBlocked

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Origin = tuple[str, str, int]  # scheme, host (lower case, IDNA), port

FETCHED_SCHEMES = frozenset({"http", "https"})
NOT_FOR_LINKS = "a feed's links may not go there (fetch.allow_networks opens networks)"
NOT_FOR_REDIRECTS = (
    "a configured URL may redirect there only within its own origin "
    "(fetch.allow_networks opens networks)"
)


class AddressBlocked(OSError):
    """Every address a name resolved to is refused by the policy (raised inside the connector;
    the Route of the fetch says why such addresses are refused to it)."""

    def __init__(self, host: str, reason: str) -> None:
        self.host = host
        self.reason = reason
        super().__init__(f"{host} resolves only to refused addresses ({reason})")


def origin_of(url: URL) -> Origin | None:
    """(scheme, host, port) of an absolute http(s) URL; None for anything else."""
    if url.scheme not in FETCHED_SCHEMES or not url.raw_host or url.port is None:
        return None
    return url.scheme, url.raw_host.lower(), url.port


def literal_address(host: str) -> IPAddress | None:
    """The address a host names without DNS, including the legacy spellings the C library
    still accepts (2130706433, 0x7f000001, 0177.1, 127.1); None for a name."""
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except (OSError, ValueError):
        return None


def _special(ip: IPAddress) -> str | None:
    """What makes `ip` non-public, or None for a public unicast address."""
    checks = (
        (ip.is_loopback, "loopback"),
        (ip.is_unspecified, "unspecified"),
        (ip.is_link_local, "link-local"),
        (ip.is_multicast, "multicast"),
        (ip.is_private, "private"),
        (ip.is_reserved, "reserved"),
        (not ip.is_global, "not globally routable"),
    )
    return next((kind for hit, kind in checks if hit), None)


class AddressPolicy:
    """Public unicast addresses are allowed, plus the networks in `allow`."""

    def __init__(self, allow: Iterable[IPNetwork] = ()) -> None:
        self._allow = tuple(allow)

    def refusal(self, ip: IPAddress) -> str | None:
        """Why `ip` may not be connected to, or None when it may."""
        checked: list[IPAddress] = [ip]
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            checked = [ip.ipv4_mapped]  # ::ffff:a.b.c.d is the IPv4 address a.b.c.d
        elif isinstance(ip, ipaddress.IPv6Address) and ip.sixtofour is not None:
            checked.append(ip.sixtofour)  # 6to4 carries an IPv4 address in its prefix
        for address in checked:
            if any(address in net for net in self._allow if net.version == address.version):
                continue
            kind = _special(address)
            if kind is not None:
                shown = str(address) if address is ip else f"{ip} ({address})"
                return f"address {shown} is {kind}"
        return None


class GuardedResolver(AbstractResolver):
    """Resolves through `inner`, then keeps only the addresses the policy allows; the connector
    connects to exactly what this returns, so no second lookup can swap in another address."""

    def __init__(self, policy: AddressPolicy, inner: AbstractResolver) -> None:
        self._policy = policy
        self._inner = inner

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        found = await self._inner.resolve(host, port, family)
        allowed: list[ResolveResult] = []
        refusals: list[str] = []
        for result in found:
            try:
                reason = self._policy.refusal(ipaddress.ip_address(result["host"]))
            except ValueError:
                reason = f"address {result['host']!r} is not an IP address"
            if reason is None:
                allowed.append(result)
            else:
                refusals.append(reason)
        if not allowed:
            raise AddressBlocked(host, "; ".join(dict.fromkeys(refusals)) or "no address")
        return allowed

    async def close(self) -> None:
        """The inner resolver belongs to whoever made it."""


class Route:
    """One call of Fetcher.get: the URL asked for, the one origin trusted for it, and the
    redirect hop being fetched; decides which pool each hop may use.

    The trusted origin (scheme, host, port) is the configured URL's own when `origin` is None,
    else that of `origin` (the feed a link came from). Only hops to the trusted origin use the
    trusted pool; every other hop, the first one included, is held to the address policy."""

    def __init__(self, url: str, origin: str | None, policy: AddressPolicy) -> None:
        self.url = url
        self.configured = origin is None
        try:  # an unusable URL simply grants no same-origin exception
            self.home = origin_of(URL(url if origin is None else origin))
        except (TypeError, ValueError):
            self.home = None
        self.current: URL | None = None  # the redirect target being fetched; None for `url`
        self._policy = policy

    @property
    def hop(self) -> str:
        """A prefix naming the redirect hop, for messages (the error's URL is always `url`)."""
        return "" if self.current is None else f"redirected to {self.current}: "

    @property
    def not_allowed(self) -> str:
        """Why a refused address is refused to this fetch, for messages."""
        return NOT_FOR_REDIRECTS if self.configured else NOT_FOR_LINKS

    def guarded(self, target: URL) -> bool:
        """Whether `target` must go through the guarded pool; FetchBlocked when it may not be
        fetched at all (not http(s), or a literal address the policy refuses: literals never
        reach a resolver)."""
        if target.scheme not in FETCHED_SCHEMES:
            scheme = f"scheme {target.scheme!r}" if target.scheme else "a URL without a scheme"
            why = f"{self.hop}{scheme} is not fetched (only http and https)"
            raise FetchBlocked(self.url, why, "bad_scheme")
        if not target.raw_host:
            raise FetchBlocked(self.url, f"{self.hop}the URL names no host", "bad_scheme")
        if self.home is not None and origin_of(target) == self.home:
            return False
        address = literal_address(target.raw_host)
        refusal = None if address is None else self._policy.refusal(address)
        if refusal is not None:
            raise FetchBlocked(self.url, f"{self.hop}{refusal}; {self.not_allowed}")
        return True


def parse(url: str) -> URL:
    """`url` as a yarl URL; FetchBlocked ("bad_scheme") when it is not a URL at all."""
    try:
        return URL(url)
    except (TypeError, ValueError) as exc:
        raise FetchBlocked(url, f"not a valid URL: {exc}", "bad_scheme") from None
