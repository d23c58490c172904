"""Where a request comes from: the peer of the connection, or the entry a trusted proxy added
(the rate limiter's budget key, and who may read /metrics)."""

from __future__ import annotations

import ipaddress

from starlette.types import Scope

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_address(text: str) -> IPAddress | None:
    """`text` as an address, or None if it is none. Accepts what proxies write: `203.0.113.5`,
    `203.0.113.5:4711`, `[2001:db8::1]:4711`; an IPv4-mapped IPv6 address is its IPv4 one."""
    text = text.strip()
    if text.startswith("[") and "]" in text:
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def proxied_entry(scope: Scope, header: bytes) -> str | None:
    """The right-most entry of `header`: the one the trusted proxy added. Entries to its left
    came from the client and may be forged; several header lines form one list (RFC 9110 5.3)."""
    lines: list[bytes] = [value for name, value in scope["headers"] if name == header]
    if not lines:
        return None
    return lines[-1].rsplit(b",", 1)[-1].decode("latin-1")
