"""Pre-signed URLs in the style of CloudFront (asset downloads) and S3 (upload parts).

Signatures are HMACs with a key that lives only in this process, so any change to a URL's
path or query makes it invalid, as with the real CDN.
"""

from __future__ import annotations

import base64
import calendar
import hashlib
import hmac
import json
import math
import secrets
import time
from urllib.parse import urlencode

KEY_PAIR_ID = "K2EMULATORKEYPAIR"


def _cloudfront_b64(data: bytes) -> str:
    # CloudFront's URL-safe alphabet: + -> -, = -> _, / -> ~
    text = base64.b64encode(data).decode()
    return text.replace("+", "-").replace("=", "_").replace("/", "~")


class UrlSigner:
    def __init__(self, key: bytes | None = None) -> None:
        self._key = key or secrets.token_bytes(32)
        # Known once the server is bound (port 0 picks one); URLs are absolute, as the CDN's are.
        self.root_url = ""

    def _mac(self, *parts: str) -> str:
        digest = hmac.new(self._key, "\n".join(parts).encode(), hashlib.sha256).digest()
        return _cloudfront_b64(digest)

    def cdn_url(self, path: str, ttl: float, *, now: float | None = None) -> str:
        """Signed download URL for ``path``; ``ttl`` may be negative (already expired)."""
        root = self.root_url
        expires = math.ceil((time.time() if now is None else now) + ttl)
        statement = {"Resource": root + path,
                     "Condition": {"DateLessThan": {"AWS:EpochTime": expires}}}
        policy = _cloudfront_b64(json.dumps({"Statement": [statement]},
                                            separators=(",", ":")).encode())
        query = {
            "Policy": policy,
            "Signature": self._mac(path, policy, str(expires), KEY_PAIR_ID),
            "Key-Pair-Id": KEY_PAIR_ID,
            "Expires": str(expires),
        }
        return f"{root}{path}?{urlencode(query)}"

    def check_cdn(self, path: str, query: dict[str, str], *, now: float | None = None) -> str:
        """``"ok"``, ``"expired"`` or ``"invalid"`` for a fetched CDN URL."""
        try:
            policy, signature = query["Policy"], query["Signature"]
            key_pair, expires = query["Key-Pair-Id"], query["Expires"]
        except KeyError:
            return "invalid"
        expected = self._mac(path, policy, expires, key_pair)
        if key_pair != KEY_PAIR_ID or not hmac.compare_digest(expected, signature):
            return "invalid"
        try:
            deadline = int(expires)
        except ValueError:
            return "invalid"
        return "ok" if (time.time() if now is None else now) < deadline else "expired"

    def part_url(self, path: str, ttl: int) -> tuple[str, float]:
        """S3-style pre-signed PUT URL and its expiry (epoch seconds)."""
        signed_at = int(time.time())
        query = {
            "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
            "X-Amz-Date": time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(signed_at)),
            "X-Amz-Expires": str(int(ttl)),
            "X-Amz-SignedHeaders": "host",
        }
        query["X-Amz-Signature"] = self._part_signature(path, query)
        return f"{self.root_url}{path}?{urlencode(query)}", float(signed_at + int(ttl))

    def _part_signature(self, path: str, query: dict[str, str]) -> str:
        mac = self._mac(path, query.get("X-Amz-Date", ""), query.get("X-Amz-Expires", ""))
        return hashlib.sha256(mac.encode()).hexdigest()

    def check_part(self, path: str, query: dict[str, str], *, now: float | None = None) -> str:
        """``"ok"``, ``"expired"`` or ``"invalid"`` for a part PUT URL."""
        signature = query.get("X-Amz-Signature", "")
        if not hmac.compare_digest(self._part_signature(path, query), signature):
            return "invalid"
        try:
            signed_at = calendar.timegm(time.strptime(query["X-Amz-Date"], "%Y%m%dT%H%M%SZ"))
            deadline = signed_at + int(query["X-Amz-Expires"])
        except (KeyError, ValueError):
            return "invalid"
        return "ok" if (time.time() if now is None else now) < deadline else "expired"
