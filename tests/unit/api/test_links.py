"""Which links from Scenario may be fetched: the public service's, and a local emulator's."""

from __future__ import annotations

import pytest
from scenario_texture_upscale.api.links import LinkPolicy, is_local_host

PUBLIC = LinkPolicy("https://api.cloud.scenario.com/v1")
LOCAL = LinkPolicy("http://127.0.0.1:8765/v1")


@pytest.mark.parametrize("host", [
    "localhost", "LOCALHOST.", "api.localhost", "127.0.0.1", "127.1", "2130706433", "0x7f000001",
    "0177.0.0.1", "0.0.0.0", "0",  # noqa: S104 - refused, never bound "::1", "::", "::ffff:127.0.0.1", "fe80::1%eth0", "10.1.2.3",
    "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1", "fc00::1", "224.0.0.1",
])
def test_local_and_private_hosts_in_any_spelling(host: str) -> None:
    assert is_local_host(host)


@pytest.mark.parametrize("host", ["cdn.cloud.scenario.com", "8.8.8.8", "2001:4860::8888",
                                  "cafe.de", "face", "1e100.net"])
def test_public_hosts(host: str) -> None:
    assert not is_local_host(host)


@pytest.mark.parametrize(("url", "reason"), [
    ("https://cdn.cloud.scenario.com/a.png?Signature=x", None),
    ("http://cdn.cloud.scenario.com/a.png", "is not https"),
    ("https://127.0.0.1:8765/_cdn/a.png", "leads to this computer or its local network"),
    ("https://user:pw@cdn.cloud.scenario.com/a.png", "carries a user name or password"),
    ("file:///etc/passwd", "is not a valid web address"),
    ("https://cdn.example.com:99999/a", "is not a valid address"),
])
def test_the_public_service_links_to_https_on_the_internet_only(url: str, reason: str | None
                                                                ) -> None:
    refusal = PUBLIC.refusal(url)
    assert refusal == reason if reason is None else reason in (refusal or "")


@pytest.mark.parametrize(("url", "allowed"), [
    ("http://127.0.0.1:8765/_cdn/assets/a.png?sig=1", True),
    ("http://127.0.0.1:8765/_parts/u/1", True),
    ("http://127.0.0.1:8766/admin/x", False),
    ("http://localhost:8765/_cdn/a.png", False),
    ("https://127.0.0.1:8765/_cdn/a.png", False),
    ("https://cdn.cloud.scenario.com/a.png", False),
])
def test_a_local_emulator_links_to_its_own_origin_only(url: str, allowed: bool) -> None:
    assert (LOCAL.refusal(url) is None) is allowed
