"""Address ranges named in settings (PLAYGROUND_TRUSTED_PROXIES): parsed once, matched often.

Kept free of the web stack so `app.settings` (imported by workers too) can validate them.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# "private": where a hosting platform's own proxies connect from. A platform's front proxy
# reaches the container over its internal network, never from a public address, so
# trusting these ranges trusts the platform's hops and nothing a visitor controls.
PRIVATE = (
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "100.64.0.0/10",  # carrier-grade NAT, used by some platforms' internal networks
    "127.0.0.0/8",
    "169.254.0.0/16",
    "::1/128",
    "fc00::/7",  # unique local (Fly.io's private network is fdaa::/16)
    "fe80::/10",
)


def parse_networks(text: str) -> tuple[Network, ...]:
    """Comma-separated addresses, CIDR ranges or the word `private`; ValueError if bad."""
    networks: list[Network] = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        names: Iterable[str] = PRIVATE if item.lower() == "private" else (item,)
        for name in names:
            try:
                networks.append(ipaddress.ip_network(name, strict=False))
            except ValueError:
                raise ValueError(
                    f"{item!r} is not an IP address, a CIDR range or 'private'"
                ) from None
    return tuple(networks)


def parse_address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """An address as found in X-Forwarded-For (IPv6 maybe in brackets, maybe with a port)."""
    text = text.strip()
    if text.startswith("["):  # "[2001:db8::1]:443"
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:  # "203.0.113.7:5123"
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped  # ::ffff:10.0.0.1 is 10.0.0.1
    return address


def contains(networks: tuple[Network, ...], address: str) -> bool:
    parsed = parse_address(address)
    return parsed is not None and any(parsed in net for net in networks)
