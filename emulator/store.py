"""In-memory asset records, and the one re-entrant lock of the emulator's state.

The job scheduler and the upload flow share the lock, so that a job or an upload and the asset
it produces change together.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

DEFAULT_OWNER = "proj_emulator"
AUTHOR = "user_emulator"


@dataclass
class Asset:
    id: str
    name: str
    mime_type: str
    data: bytes
    width: int
    height: int
    # Wire values of asset.source / asset.metadata.type.
    source: str = "uploaded"
    owner_id: str = DEFAULT_OWNER
    parent_id: str | None = None
    job_id: str | None = None
    created_at: float = field(default_factory=time.time)
    # Re-encoded copies made for POST /assets/{id}/download, by extension.
    variants: dict[str, tuple[bytes, str]] = field(default_factory=dict)


@dataclass
class Upload:
    id: str
    file_name: str
    content_type: str
    file_size: int
    parts_count: int
    kind: str
    owner_id: str
    created_at: float = field(default_factory=time.time)
    part_urls: list[dict[str, object]] = field(default_factory=list)
    parts: dict[int, bytes] = field(default_factory=dict)
    status: str = "pending"
    completed_at: float | None = None
    updated_at: float = field(default_factory=time.time)
    # Decided just after "complete" (outside the lock), revealed as the status advances.
    outcome_error: str | None = None
    pending_asset: Asset | None = None
    entity_id: str | None = None
    error_message: str | None = None


class Store:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self._assets: dict[str, Asset] = {}

    def add_asset(self, asset: Asset) -> Asset:
        with self.lock:
            self._assets[asset.id] = asset
        return asset

    def asset(self, asset_id: str) -> Asset | None:
        with self.lock:
            return self._assets.get(asset_id)

    def has_asset(self, asset_id: str) -> bool:
        return self.asset(asset_id) is not None

    def assets(self) -> list[Asset]:
        with self.lock:
            return list(self._assets.values())

    def variant(self, asset: Asset, extension: str) -> tuple[bytes, str] | None:
        with self.lock:
            return asset.variants.get(extension)

    def add_variant(self, asset: Asset, extension: str, variant: tuple[bytes, str]) -> None:
        with self.lock:
            asset.variants[extension] = variant

    def clear(self) -> None:
        with self.lock:
            self._assets.clear()
