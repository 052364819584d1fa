from __future__ import annotations

import pytest
from scenario_texture_upscale.api import (
    DEFAULT_BASE_URL,
    Credentials,
    InsecureURLError,
    MissingCredentialsError,
    credentials_source,
    is_loopback_url,
    is_secure_url,
    resolve_base_url,
    resolve_credentials,
)

ENV = {"SCENARIO_SDK_API_KEY": "env-key-abcdef", "SCENARIO_SDK_API_SECRET": "env-secret-xyz"}


def test_explicit_credentials_win_over_environment() -> None:
    creds = resolve_credentials("pref-key-1234", "pref-secret", env=ENV)
    assert creds == Credentials("pref-key-1234", "pref-secret")
    assert credentials_source("pref-key-1234", "pref-secret", env=ENV) == "preferences"


def test_environment_used_when_preferences_empty() -> None:
    assert resolve_credentials(env=ENV) == Credentials("env-key-abcdef", "env-secret-xyz")
    assert credentials_source("", "", env=ENV) == "environment"


def test_whitespace_is_stripped() -> None:
    creds = resolve_credentials("  k-123456\n", "\ts-123 ", env={})
    assert (creds.api_key, creds.api_secret) == ("k-123456", "s-123")


def test_missing_everything_says_where_to_put_keys() -> None:
    with pytest.raises(MissingCredentialsError) as info:
        resolve_credentials(env={})
    message = info.value.message
    assert "add-on preferences" in message
    assert "SCENARIO_SDK_API_KEY" in message and "SCENARIO_SDK_API_SECRET" in message
    assert credentials_source(env={}) is None


@pytest.mark.parametrize(("key", "secret", "missing"), [("k-1", "", "secret"), ("", "s-1", "key")])
def test_half_filled_preferences_do_not_mix_with_environment(
    key: str, secret: str, missing: str
) -> None:
    with pytest.raises(MissingCredentialsError) as info:
        resolve_credentials(key, secret, env=ENV)
    assert f"API {missing} is missing" in info.value.message
    assert "s-1" not in info.value.message
    assert credentials_source(key, secret, env=ENV) is None


def test_environment_needs_both_values() -> None:
    with pytest.raises(MissingCredentialsError):
        resolve_credentials(env={"SCENARIO_SDK_API_KEY": "only-key"})


def test_credentials_repr_and_str_mask_both() -> None:
    creds = Credentials("demo-key-123456", "very-secret-value")
    for text in (repr(creds), str(creds), f"{creds}", repr([creds])):
        assert "very-secret-value" not in text
        assert "demo-key-123456" not in text
        assert "demo…" in text


def test_short_key_is_masked_too() -> None:
    assert "ab" not in repr(Credentials("abcd", "x"))[len("Credentials(api_key='") + 2 :]
    assert repr(Credentials("", "x")) == "Credentials(api_key='', api_secret='***')"


def test_credentials_are_frozen() -> None:
    creds = Credentials("k", "s")
    with pytest.raises(AttributeError):
        creds.api_secret = "other"  # type: ignore[misc]


def test_base_url_default_env_and_explicit() -> None:
    assert resolve_base_url(env={}) == DEFAULT_BASE_URL
    env = {"SCENARIO_BASE_URL": "http://127.0.0.1:8765/v1/"}
    assert resolve_base_url(env=env) == "http://127.0.0.1:8765/v1"
    assert resolve_base_url("https://eu.example.com/v1//", env=env) == "https://eu.example.com/v1"


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8765/v1",
        "http://127.5.6.7/v1",
        "http://localhost:8000/v1",
        "http://LOCALHOST/v1",
        "http://[::1]:8765/v1",
        "https://api.cloud.scenario.com/v1",
    ],
)
def test_loopback_http_and_any_https_allowed(url: str) -> None:
    assert resolve_base_url(url, env={}) == url


@pytest.mark.parametrize(
    "url",
    [
        "http://api.cloud.scenario.com/v1",
        "http://192.168.1.10:8765/v1",
        "http://10.0.0.1/v1",
        "http://localhost.evil.com/v1",
        "http://128.0.0.1/v1",
    ],
)
def test_plain_http_to_remote_host_refused(url: str) -> None:
    with pytest.raises(InsecureURLError) as info:
        resolve_base_url(url, env={})
    assert "https://" in info.value.message and "127.0.0.1" in info.value.message


def test_env_url_is_checked_too() -> None:
    with pytest.raises(InsecureURLError):
        resolve_base_url(env={"SCENARIO_BASE_URL": "http://example.com/v1"})


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/v1",
        "example.com/v1",
        "https://",
        "https://user:pw@example.com/v1",
        "https://example.com/v1?x=1",
        "https://example.com:99999/v1",
    ],
)
def test_malformed_urls_refused(url: str) -> None:
    with pytest.raises(InsecureURLError):
        resolve_base_url(url, env={})


def test_is_loopback_url() -> None:
    assert is_loopback_url("http://127.0.0.1:1/x")
    assert is_loopback_url("http://[::1]/x")
    assert is_loopback_url("https://localhost/x")
    assert not is_loopback_url("http://example.com")
    assert not is_loopback_url("http://0.0.0.0/")
    assert not is_loopback_url("not a url")
    assert not is_loopback_url("http://[bad/")


def test_is_secure_url() -> None:
    assert is_secure_url("https://cdn.example.com/a.png?Signature=x")
    assert is_secure_url("http://127.0.0.1:9/a.png")
    assert not is_secure_url("http://cdn.example.com/a.png")
    assert not is_secure_url("file:///etc/passwd")
    assert not is_secure_url("https:///nohost")
