"""Signed CDN URLs of assets: handing them out and checking them when fetched.

The ``expire_urls`` fault acts on both sides: an answer whose URLs are born expired, or a
fetch of a valid URL refused as expired. The ``local_link`` fault plants, in an answer that
hands out links, an address of another service on this computer instead.
"""

from __future__ import annotations

from .faults import EXPIRE_KINDS, LINK_KINDS, FaultPlan
from .formats import extension_for
from .messages import Request
from .signing import UrlSigner
from .store import Asset

# The CDN route (cdn_api) serves what these URLs name.
CDN_PREFIX = "/_cdn/assets/"
_EXPIRED_TTL = -60.0
# Where a planted link leads by default: a page of the other listener that no client of the
# API has any business fetching.
PLANTED_PATH = "/admin/secrets"


class AssetUrls:
    def __init__(self, signer: UrlSigner, faults: FaultPlan, ttl_seconds: float) -> None:
        self._signer = signer
        self._faults = faults
        self._ttl = ttl_seconds
        # The emulator's other origin (server.py), known once it listens.
        self.other_root = ""

    def signed(self, asset: Asset, request: Request, extension: str | None = None,
               *, faults: bool = True) -> str:
        """A fresh URL of the asset (or of its copy with ``extension``).

        Every URL in one answer shares one claim, so an expire_urls rule expires all of them.
        ``faults=False`` (upload answers) never claims: clients rarely download from there, and
        a rule spent on them would silently miss the result download it was meant for.
        """
        path = f"{CDN_PREFIX}{asset.id}.{extension or extension_for(asset.mime_type)}"
        if not faults:
            return self._signer.cdn_url(path, self._ttl)
        planted = self.planted_link(request)
        if planted is not None:
            return planted
        if "urls_expired" not in request.extras:
            request.extras["urls_expired"] = self._faults.claim_for(EXPIRE_KINDS, request) is not None
        return self._signer.cdn_url(path, _EXPIRED_TTL if request.extras["urls_expired"]
                                    else self._ttl)

    def planted_link(self, request: Request) -> str | None:
        """The address a ``local_link`` rule puts in this answer instead of its real links (one
        claim per answer), or None."""
        if "planted_link" not in request.extras:
            rule = self._faults.claim_for(LINK_KINDS, request)
            request.extras["planted_link"] = (
                None if rule is None else rule.param("url") or self.other_root + PLANTED_PATH)
        planted: str | None = request.extras["planted_link"]
        return planted

    def check(self, request: Request) -> str:
        """``"ok"``, ``"expired"`` or ``"invalid"`` for a fetched CDN URL."""
        verdict = self._signer.check_cdn(request.path, request.query)
        if verdict == "ok" and self._faults.claim_for(EXPIRE_KINDS, request) is not None:
            return "expired"
        return verdict
