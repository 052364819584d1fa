"""Settings of one emulator instance, shared by the CLI and the programmatic API."""

from __future__ import annotations

import ipaddress
import sys
from dataclasses import dataclass, field
from typing import Any, TextIO

MIB = 1024 * 1024
DEFAULT_TEAM_PARALLEL_JOBS = 2


def loopback_host(host: str) -> str:
    """Return the address to bind for ``host``; raise ValueError unless it is loopback."""
    if host == "localhost":
        return "127.0.0.1"
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        raise ValueError(f"host {host!r} is not an IP address or 'localhost'") from None
    if not address.is_loopback:
        raise ValueError(f"refusing to bind non-loopback host {host!r}")
    return str(address)


@dataclass
class EmulatorOptions:
    port: int = 0
    host: str = "127.0.0.1"
    api_key: str = "demo-key"
    api_secret: str = "demo-secret"
    # Wall time of one job when it gets a slot at once (queued share included).
    job_seconds: float = 3.0
    max_concurrent_jobs: int = 4
    # Scenario's team limit: a generate is refused with 429 while this many jobs of the team
    # (every client of the key) have not ended. 0: no limit. Small by default, as on small plans.
    team_parallel_jobs: int = DEFAULT_TEAM_PARALLEL_JOBS
    keep_alpha: bool = False
    break_tiling: bool = False
    # The format results are made in: Scenario does not promise PNG, and a client that needs
    # one asks POST /assets/{id}/download for it.
    result_format: str = "png"
    # Whether POST /jobs/{id}/action {"action": "cancel"} is accepted. Off, it is refused as
    # a live call refused it for a custom-model job.
    accept_cancel: bool = False
    url_ttl_seconds: float = 3600.0
    # Initial fault plan (same rules as POST /_emulator/faults).
    faults: list[dict[str, Any]] = field(default_factory=list)
    # Time from "complete" to "imported" for multipart uploads.
    upload_seconds: float = 0.6
    # S3 refuses parts below 5 MiB except the last one; keep that by default.
    min_part_bytes: int = 5 * MIB
    # The gateway in front of the real API rejects bodies above about 10 MB.
    max_body_bytes: int = 10 * 1000 * 1000
    # Output size the emulator agrees to render (the real limit is unknown).
    max_output_pixels: int = 8192 * 8192
    max_output_side: int = 16384
    # Scenario may retire or rename the upscale model, or change its inputs (model_catalog.py).
    model_missing: bool = False
    model_input_changes: dict[str, Any] = field(default_factory=dict)
    log_requests: bool = True
    log_stream: TextIO | None = None

    def validate(self) -> None:
        self.host = loopback_host(self.host)
        if not 0 <= self.port <= 65535:
            raise ValueError("port must be within 0-65535")
        if self.job_seconds < 0 or self.upload_seconds < 0:
            raise ValueError("job_seconds and upload_seconds must be >= 0")
        if self.max_concurrent_jobs < 1:
            raise ValueError("max_concurrent_jobs must be >= 1")
        if self.team_parallel_jobs < 0:
            raise ValueError("team_parallel_jobs must be >= 0 (0: no limit)")
        if self.url_ttl_seconds <= 0:
            raise ValueError("url_ttl_seconds must be > 0")
        if not self.api_key or not self.api_secret:
            raise ValueError("api_key and api_secret must not be empty")

    @property
    def stream(self) -> TextIO:
        return self.log_stream if self.log_stream is not None else sys.stderr
