"""Where the credentials and the service address come from, and checks that they are safe."""

from __future__ import annotations

import base64
import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from .constants import DEFAULT_BASE_URL, ENV_API_KEY, ENV_API_SECRET, ENV_BASE_URL
from .errors import InsecureURLError, MissingCredentialsError
from .redact import mask_key

CredentialsSource = Literal["preferences", "environment"]


@dataclass(frozen=True, repr=False)
class Credentials:
    """An API key and secret. Their repr/str show only the first characters of the key."""

    api_key: str
    api_secret: str

    def __repr__(self) -> str:
        return f"Credentials(api_key={mask_key(self.api_key)!r}, api_secret='***')"

    __str__ = __repr__

    @property
    def basic_token(self) -> str:
        """What the Authorization header carries after "Basic ": the key and secret, readable."""
        return base64.b64encode(f"{self.api_key}:{self.api_secret}".encode()).decode("ascii")

    @property
    def secrets(self) -> tuple[str, str]:
        """What must never be shown: the secret, and the token that holds it."""
        return self.api_secret, self.basic_token


def _pair(key: str, secret: str) -> tuple[str, str]:
    # Pasted keys often carry a trailing newline or space.
    return key.strip(), secret.strip()


def credentials_source(
    api_key: str = "", api_secret: str = "", env: Mapping[str, str] | None = None
) -> CredentialsSource | None:
    """Which complete pair ``resolve_credentials`` would use, or None if neither is complete."""
    env = os.environ if env is None else env
    key, secret = _pair(api_key, api_secret)
    if key or secret:
        # A half-filled preference never mixes with the environment: keys belong together.
        return "preferences" if key and secret else None
    env_key, env_secret = _pair(env.get(ENV_API_KEY, ""), env.get(ENV_API_SECRET, ""))
    return "environment" if env_key and env_secret else None


def resolve_credentials(
    api_key: str = "", api_secret: str = "", env: Mapping[str, str] | None = None
) -> Credentials:
    """The explicit (preferences) pair if given, else the SCENARIO_SDK_* environment variables."""
    env = os.environ if env is None else env
    key, secret = _pair(api_key, api_secret)
    source = credentials_source(key, secret, env)
    if source == "preferences":
        return Credentials(key, secret)
    if source == "environment":
        return Credentials(*_pair(env[ENV_API_KEY], env[ENV_API_SECRET]))
    if key or secret:
        missing = "API secret" if key else "API key"
        raise MissingCredentialsError(
            f"The Scenario {missing} is missing: enter both the key and the secret in the "
            "add-on preferences (Scenario project settings → API Keys)."
        )
    raise MissingCredentialsError(
        "No Scenario API key/secret: enter them in the add-on preferences, or set the "
        f"environment variables {ENV_API_KEY} and {ENV_API_SECRET}."
    )


def is_loopback_url(url: str) -> bool:
    """True when the URL's host is this machine: localhost, 127.0.0.0/8 or ::1."""
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return False
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_secure_url(url: str) -> bool:
    """True for https URLs with a host, or http on loopback (a local emulator)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    if not parts.hostname:
        return False
    scheme = parts.scheme.lower()
    return scheme == "https" or (scheme == "http" and is_loopback_url(url))


def resolve_base_url(base_url: str = "", env: Mapping[str, str] | None = None) -> str:
    """The explicit URL, else SCENARIO_BASE_URL, else the public service; never remote http."""
    env = os.environ if env is None else env
    url = (base_url.strip() or env.get(ENV_BASE_URL, "").strip() or DEFAULT_BASE_URL).rstrip("/")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError as exc:
        raise InsecureURLError(f"The Scenario address {url!r} is not a valid URL.") from exc
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise InsecureURLError(
            f"The Scenario address {url!r} is not a valid URL: it must look like "
            f"{DEFAULT_BASE_URL}."
        )
    if parts.username or parts.password or parts.query or parts.fragment:
        raise InsecureURLError(
            "The Scenario address must not contain a user name, password, query or fragment: "
            f"use a plain URL like {DEFAULT_BASE_URL}."
        )
    if not is_secure_url(url):
        raise InsecureURLError(
            f"Refusing to send your Scenario keys over plain http:// to {parts.hostname}: use an "
            "https:// address (plain http is only allowed for a local emulator on 127.0.0.1, "
            "::1 or localhost)."
        )
    return url
