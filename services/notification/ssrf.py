"""SSRF guard: resolve a webhook target once, refuse non-public addresses, pin the connection.

A target is refused when any address its host resolves to is private, loopback, link-local,
CGNAT, multicast, reserved or an IPv4-mapped IPv6 form of one, unless it falls inside
``WEBHOOK_ALLOWLIST``. The request then connects to the checked address, so a second DNS
answer cannot redirect it (DNS rebinding).
"""
from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from shared.config import AllowRule

_BLOCKED = tuple(ipaddress.ip_network(n) for n in (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
    "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15",
    "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4", "255.255.255.255/32",
    "::/128", "::1/128", "64:ff9b::/96", "100::/64", "2001::/23", "2001:db8::/32", "2002::/16",
    "fc00::/7", "fe80::/10", "fec0::/10", "ff00::/8",
))


class UnsafeTarget(ValueError):
    """The webhook URL may not be called; the message says why."""


@dataclass(frozen=True)
class Target:
    """A checked webhook target: connect to ``ip``, speak to ``host``."""

    scheme: str
    host: str
    port: int
    ip: str
    path: str
    host_header: str


def is_forbidden(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Whether an address is not on the public internet (IPv4-mapped IPv6 checked as IPv4)."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return is_forbidden(ip.ipv4_mapped)
    if any(ip in net for net in _BLOCKED if net.version == ip.version):
        return True
    return ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast or ip.is_reserved or ip.is_unspecified


def _allowed(host: str, ip, port: int, allowlist) -> bool:
    for rule in allowlist:
        if isinstance(rule, AllowRule):
            if rule.allows(host, ip, port):
                return True
        else:  # a bare network (tests and callers may pass ipaddress networks)
            mapped = ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None else ip
            if mapped.version == rule.version and mapped in rule:
                return True
    return False


def _describe(rule) -> str:
    if isinstance(rule, AllowRule):
        if rule.host is not None:
            return f"{rule.host}:{rule.port}"
        single = rule.network.num_addresses == 1
        network = str(rule.network.network_address) if single else str(rule.network)
        network = f"[{network}]" if rule.network.version == 6 else network
        return f"{network}:{rule.port}" if rule.port is not None else f"{rule.network} (any port)"
    return f"{rule} (any port)"


def allowlist_entries(allowlist: tuple) -> str:
    """The ``WEBHOOK_ALLOWLIST`` entries in words, for the subscription form's hint."""
    return ", ".join(_describe(rule) for rule in allowlist)


def check_url(url: str, allowlist: tuple = (), resolver=socket.getaddrinfo) -> Target:
    """Parse, resolve and check ``url``; return the pinned target or raise UnsafeTarget."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeTarget(f"not a valid URL: {exc}")
    if parts.scheme not in ("http", "https"):
        raise UnsafeTarget("the URL must start with http:// or https://")
    if not parts.hostname:
        raise UnsafeTarget("the URL has no host")
    if parts.username or parts.password:
        raise UnsafeTarget("credentials in the URL are not allowed; authenticate by the signature")
    host = parts.hostname
    port = port or (443 if parts.scheme == "https" else 80)
    try:
        infos = resolver(host, port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeTarget(f"the host {host!r} does not resolve: {exc}")
    addresses = []
    for info in infos:
        ip = ipaddress.ip_address(info[4][0].split("%", 1)[0])
        if ip not in addresses:
            addresses.append(ip)
    if not addresses:
        raise UnsafeTarget(f"the host {host!r} does not resolve")
    for ip in addresses:
        if is_forbidden(ip) and not _allowed(host, ip, port, allowlist):
            raise UnsafeTarget(
                f"the host {host!r} resolves to {ip}, a private, loopback or reserved address; "
                "use a public address or add it to WEBHOOK_ALLOWLIST"
            )
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    default_port = port == (443 if parts.scheme == "https" else 80)
    host_header = host if default_port else f"{host}:{port}"
    if ":" in host and not default_port:
        host_header = f"[{host}]:{port}"
    return Target(parts.scheme, host, port, str(addresses[0]), path, host_header)
