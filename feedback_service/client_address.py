"""The client's address as rate limits and anonymous votes see it, never stored raw.

``request.remote_addr`` is the peer, or with ``PROXY_FIX_X_FOR`` set the address the trusted
proxies report. IPv6 clients are taken per /64, since one host usually holds a whole /64.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress

from flask import current_app, request

IPV6_CLIENT_PREFIX = 64


def client_network(remote_addr: str | None) -> str:
    """The address (IPv4) or /64 network (IPv6) that stands for one client."""
    text = remote_addr or ""
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return text
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, IPV6_CLIENT_PREFIX), strict=False))
    return str(address)


def client_key() -> str:
    """A keyed hash of the client's network: stable per client, useless without the app key."""
    secret = str(current_app.config["SECRET_KEY"]).encode()
    network = client_network(request.remote_addr).encode()
    return hmac.new(secret, network, hashlib.sha256).hexdigest()
