"""Network helpers: the client's address behind proxies, and which addresses a webhook may
reach.

`client_address` reads the address the way the API throttles do: `NUM_PROXIES` hops back in
X-Forwarded-For, or REMOTE_ADDR when there is no proxy, so a client cannot choose its own.

`url_problem` refuses webhook targets that point into the platform's own network: loopback,
link-local (cloud metadata at 169.254.169.254), private ranges, multicast, reserved and
unspecified addresses, for every address the host name resolves to. Checked when a
subscription is saved and again before each delivery (DNS can change in between), unless
WEBHOOK_ALLOW_PRIVATE_ADDRESSES is on (a subscriber on the same private network).
"""

import ipaddress
import socket
from collections.abc import Callable
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest
from rest_framework.settings import api_settings

Resolver = Callable[[str, int], list[str]]


def client_address(request: HttpRequest, *args: object, **kwargs: object) -> str:
    """The client's IP address, `NUM_PROXIES` hops back in X-Forwarded-For."""
    remote = request.META.get("REMOTE_ADDR", "") or ""
    proxies = api_settings.NUM_PROXIES or 0
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies > 0 and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            return hops[-min(proxies, len(hops))]
    return remote


def _resolve(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


def is_public_address(address: str) -> bool:
    """True for a globally routable unicast address."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_unspecified)


def url_problem(url: str, *, resolve: Resolver | None = None) -> str:
    """Why a webhook may not be sent to `url` ("" if it may)."""
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return "The address is not a valid URL."
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        return "Give an http:// or https:// address."
    if getattr(settings, "WEBHOOK_ALLOW_PRIVATE_ADDRESSES", False):
        return ""
    try:
        addresses = (resolve or _resolve)(parts.hostname, port)
    except (OSError, UnicodeError):
        return f"The host '{parts.hostname}' could not be resolved."
    if not addresses:
        return f"The host '{parts.hostname}' could not be resolved."
    for address in addresses:
        try:
            public = is_public_address(address)
        except ValueError:
            public = False
        if not public:
            return (
                f"'{parts.hostname}' resolves to {address}, a loopback, link-local or private "
                "address; webhooks only go to public addresses (WEBHOOK_ALLOW_PRIVATE_ADDRESSES)."
            )
    return ""


# Last resort for links made without a request and without PUBLIC_BASE_URL (a command run
# on a development machine): where `make run` serves.
DEVELOPMENT_BASE_URL = "http://127.0.0.1:8000"


def public_base_url(request: HttpRequest | None = None, fallback: str = "") -> str:
    """The address respondents reach the site at, without a trailing slash: PUBLIC_BASE_URL
    when set, else the address `request` came in on, else `fallback` (e.g. the address an
    earlier batch was sent with), else the development address."""
    configured = settings.PUBLIC_BASE_URL
    if configured:
        return configured.rstrip("/")
    if request is not None:
        return request.build_absolute_uri("/").rstrip("/")
    return (fallback or DEVELOPMENT_BASE_URL).rstrip("/")
