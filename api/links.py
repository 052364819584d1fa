"""Which addresses a link handed out by Scenario may lead this computer to.

Scenario's answers carry links the add-on then fetches without its keys: the result's download
link, the multipart upload's part addresses, and any redirect they answer with. A hostile or
broken service could point them at this computer or its network (a local admin page, a cloud
metadata address) or at plain http. Every such address is checked before a request goes to it:

- against the public service: https only, and never a loopback, private, link-local, unspecified,
  reserved or multicast address (written as a name like ``localhost`` or as an IP address in
  any of the forms a resolver accepts, e.g. ``127.1`` or ``2130706433``);
- against a local emulator (the API itself on plain http on loopback): the API's own origin only
  (same scheme, host and port), so a link to another port of this computer is refused too.

Host names are not resolved here: a public name that resolves to a private address is not
caught (the check would race the resolver anyway).
"""

from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from .config import is_loopback_url
from .errors import UnsafeLinkError

_DEFAULT_PORTS = {"http": 80, "https": 443}
# What a resolver may read as an IPv4 address in the old short forms (inet_aton's grammar).
_NUMERIC_HOST = re.compile(r"[0-9a-fA-FxX.]+")

Origin = tuple[str, str, int]


@dataclass(frozen=True)
class LinkPolicy:
    """The rule for links of one API address (``base_url``)."""

    base_url: str

    @property
    def local(self) -> bool:
        """The API is a local emulator on plain http: links must stay on its origin."""
        return urlsplit(self.base_url).scheme.lower() == "http" and is_loopback_url(self.base_url)

    def refusal(self, url: str) -> str | None:
        """Why ``url`` must not be fetched (a phrase that completes "it …"), or None."""
        try:
            parts = urlsplit(url)
            origin = _origin(url)
        except ValueError:
            return "is not a valid address"
        if origin is None or not parts.hostname:
            return "is not a valid web address"
        if parts.username or parts.password:
            return "carries a user name or password"
        if self.local:
            own = _origin(self.base_url)
            if origin != own:
                return (f"leads to {describe_origin(origin)}, not to the local Scenario address "
                        f"in use ({describe_origin(own)})")
            return None
        if origin[0] != "https":
            return "is not https"
        if is_local_host(origin[1]):
            return f"leads to this computer or its local network ({origin[1]})"
        return None

    def check(self, url: str, subject: str) -> str:
        """``url`` when it may be fetched, else ``UnsafeLinkError`` saying why; ``subject`` is
        where it came from, e.g. "Scenario sent a download link"."""
        reason = self.refusal(url)
        if reason is not None:
            raise UnsafeLinkError(
                f"{subject} that {reason}. It was refused, and nothing was sent to it.",
                not_sent=True)
        return url


def _origin(url: str) -> Origin | None:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    host = parts.hostname.lower().rstrip(".")
    return scheme, host, parts.port or _DEFAULT_PORTS[scheme]  # .port raises on a bad port


def describe_origin(origin: Origin | None) -> str:
    if origin is None:
        return "?"
    scheme, host, port = origin
    shown = f"[{host}]" if ":" in host else host
    return f"{scheme}://{shown}" + ("" if port == _DEFAULT_PORTS[scheme] else f":{port}")


def is_local_host(host: str) -> bool:
    """Whether ``host`` names this computer or a network that is not the public internet."""
    host = host.lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    address = _as_address(host)
    if address is None:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return not address.is_global or address.is_multicast


def _as_address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    host = host.split("%", 1)[0]  # an IPv6 zone (fe80::1%eth0) says which interface, not where
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if _NUMERIC_HOST.fullmatch(host) and any(c.isdigit() for c in host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None
