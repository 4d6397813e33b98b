"""All settings in one place (env prefix PLAYGROUND_); every limit and URL lives here."""

from __future__ import annotations

import os
import re
import secrets
from dataclasses import fields
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.cpus import cpu_limit
from app.netranges import parse_networks
from app.nn.spec.base import Limits


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PLAYGROUND_", extra="ignore")

    # Spec bounds (see app.nn.spec.Limits).
    max_layers: int = 16
    max_units: int = 128
    max_samples: int = 5000
    max_epochs: int = 10000
    max_steps: int = 1_000_000
    max_batch_size: int = 5000
    min_lr: float = 1e-6
    max_lr: float = 10.0
    max_grid: int = 128
    max_seq_len: int = 200
    max_rnn_layers: int = 4
    max_token_len: int = 32  # the transformer family's bounds
    max_blocks: int = 4
    max_heads: int = 4
    max_d_model: int = 128
    max_ffn: int = 512
    max_conv_layers: int = 4
    max_channels: int = 32
    max_kernel: int = 5

    # Server.
    host: str = "127.0.0.1"
    port: int = 8000  # unset: $PORT if the platform sets it (Render, Heroku-likes), else 8000
    data_dir: Path = Path("data")
    database_url: str = ""  # default: sqlite file in data_dir

    # Execution.
    executor: str = "local"  # local | queue
    workers: int = 0  # 0 = number of CPU cores
    torch_threads: int = 1
    worker_nice: int = 10  # measured: keeps the API's p99 low while runs train

    # Run service limits (runs holding a worker = training or paused).
    max_training_runs: int = 0  # 0 = the worker pool size; extra runs wait in a queue
    max_queued: int = 32  # beyond it POST /api/runs answers 429
    max_runs_per_client: int = 8  # queued + training + paused runs per client address
    max_run_seconds: float = 600.0  # training time per run (paused time excluded)
    max_paused_seconds: float = 900.0  # a paused run holds a worker; then it is stopped

    # Streaming.
    # Metrics frames per second per run: frame_rate until a viewer asks for pictures, then
    # the rate its pictures come at (snapshot_rate / snapshot_rate_busy below), at most
    # frame_rate_max: a chart point every displayed frame while few runs are watched (each
    # viewer costs the event loop a send per frame; 60 for all halved what 8 runs kept with
    # 32 viewers, so busy servers stay at 30).
    frame_rate: float = 30.0
    frame_rate_max: float = 60.0
    # Snapshots (boundary, weights, neuron pictures) follow what viewers consume, at most
    # snapshot_rate a second (a picture every displayed frame) while at most
    # snapshot_busy_runs runs of this server are watched, else snapshot_rate_busy (32
    # viewers on 8 runs keep more of their steps: bench/load.py --viewers); with nobody
    # drawing them, snapshot_idle_rate (app.runs.events.demand).
    snapshot_rate: float = 60.0
    snapshot_rate_busy: float = 30.0
    snapshot_busy_runs: int = 2
    snapshot_idle_rate: float = 1.0
    event_buffer: int = 2048  # recent events per run kept exactly for replay
    history_points: int = 1000  # decimated metric frames kept per run (memory and db)
    keep_finished: int = 64  # finished runs whose full event log stays in memory
    checkpoint_seconds: float = 10.0  # how often training runs' curves are persisted
    heartbeat_seconds: float = 15.0  # idle WebSocket heartbeat
    max_body_bytes: int = 1_000_000  # request bodies (a spec with custom points) and WS messages

    # ---- Diagnostics panel ---------------------------------------------------------------
    # Histograms, percentile bands, flags and the logits grid ride on a snapshot at most
    # this often per run (a probe costs ~5-20 ms of a worker's time on a busy machine).
    diagnostics_rate: float = 2.0

    # ---- Comparisons and optimizer races (docs/API.md "Comparisons") -------------------
    # A comparison's metrics ticks follow frame_rate (one frame per member per tick); its
    # member pictures are taken one member at a time, round-robin, at this rate in all.
    comparison_frame_rate: float = 20.0  # ticks a second (races: steps frames a second)
    comparison_snapshot_rate: float = 4.0
    comparison_summary_rate: float = 2.0  # live summary-table events per second

    # ---- Hosted demo and hardening (docs/API.md "Hosting") -----------------------------
    # PLAYGROUND_DEMO=1 (on in the Docker image) lowers every visitor-controlled limit to
    # DEMO_CAPS below, except those set explicitly (an operator's value always wins).
    demo: bool = False
    secret_key: str = Field("", repr=False)  # signs visitor cookies; "" = random per process
    owner_only: bool = False  # only a run's visitor may control it (forced on in demo mode)
    # Stop active runs no socket watched for this long (a closed tab; a reopened page offers
    # to reattach first); 0 = never. Outside demo mode too: nobody may be left paying for it.
    idle_run_seconds: float = 600.0
    create_per_minute: float = 0.0  # new runs per client address per minute; 0 = no limit
    create_burst: int = 10  # runs a client may create at once before the rate applies
    max_form_bytes: int = 65_536  # urlencoded form posts (the playground's controls)
    allowed_origins: str = ""  # extra WebSocket Origins (comma separated); same-origin is fine
    security_headers: bool = True  # CSP, nosniff, Referrer-Policy, frame-ancestors
    metrics: bool = True  # Prometheus text at /metrics
    log_format: str = "text"  # text | json (JSON lines carrying the run id)

    # ---- Platforms (issue 15; docs/HOSTING.md) ---------------------------------------
    # Pages that may show the app in a frame: CSP frame-ancestors sources separated by
    # spaces, e.g. "https://huggingface.co" for a Space. Anything but 'none' also issues
    # the visitor cookie SameSite=None; Secure; Partitioned: a cross-site frame drops a
    # Lax cookie, and every request would be a new visitor.
    frame_ancestors: str = "'none'"
    # Peers whose X-Forwarded-For / X-Forwarded-Proto are believed (the rate limit keys on
    # the client address): addresses or CIDR ranges, comma separated, or "private" (the
    # private, loopback and link-local ranges platform proxies connect from). Empty:
    # nobody, the peer address is the client (a server exposed directly).
    trusted_proxies: str = ""

    # ---- Export, import and loss landscape -----------------------------------------------
    max_upload_bytes: int = 1_000_000  # a CSV dataset upload (rows are capped by max_samples)
    datasets_max_points: int = 2_000_000  # stored custom datasets, all together (oldest go)
    landscape_max_steps: int = 41  # grid points per axis of the 2-D slice (41² loss evals)
    landscape_max_samples: int = 1000  # training points each loss evaluation uses, at most
    landscape_max_work: int = 20_000_000  # ... and parameters x points per evaluation (big nets)
    landscape_max_trajectory: int = 200  # weight snapshots a run keeps for its projected path
    landscape_trajectory_bytes: int = 4_000_000  # ... and their size per run, at most
    landscape_workers: int = 1  # processes computing landscapes of ended runs
    landscape_queue: int = 4  # landscape requests in flight at most (then 429)
    landscape_timeout: float = 60.0  # seconds to wait for a landscape (or weights) reply
    landscape_per_minute: float = 0.0  # landscapes per client address per minute; 0 = no limit
    landscape_burst: int = 3  # landscapes a client may ask at once before the rate applies

    # ---- Hardening (issue 14) -----------------------------------------------------------
    # Open WebSockets per visitor (a handshake without a valid cookie counts as its
    # address) and per address; 0 = no cap. Demo mode caps both (DEMO_CAPS).
    max_sockets_per_visitor: int = 0
    max_sockets_per_address: int = 0

    # ---- Job queue (issue 9; executor = "queue", docs/SCALE-OUT.md) -----------------
    # Runs train in `backprop worker` processes on any machine that reaches this Redis;
    # several web servers may share it (and then a database: database_url).
    redis_url: str = "redis://127.0.0.1:6379/0"
    queue_prefix: str = "bp"  # Redis key prefix: deployments may share one Redis
    queue_lease_seconds: float = 5.0  # a worker silent this long has died: its run fails
    queue_start_timeout: float = 120.0  # a queued job no worker takes by then fails
    queue_stream_len: int = 2048  # events kept per run in Redis (approximate MAXLEN)
    queue_retention_seconds: float = 3600.0  # an ended run's Redis keys expire after this

    @field_validator("frame_ancestors")
    @classmethod
    def _frame_ancestors(cls, value: str) -> str:
        sources = value.split()
        if not sources or sources == ["'none'"]:
            return "'none'"
        bad = [s for s in sources if not FRAME_SOURCE.fullmatch(s)]
        if bad:
            raise ValueError(
                f"frame_ancestors: {bad[0]!r} is not a CSP source such as https://example.org, "
                "'self' or 'none' (alone)"
            )
        return " ".join(sources)

    @field_validator("trusted_proxies")
    @classmethod
    def _trusted_proxies(cls, value: str) -> str:
        parse_networks(value)  # a typo must stop the server, not silently trust nobody
        return value

    @model_validator(mode="after")
    def _hosting(self) -> Settings:
        if "port" not in self.model_fields_set and os.environ.get("PORT"):
            # Render and most PaaS say where to listen in $PORT; PLAYGROUND_PORT wins.
            port = os.environ["PORT"]
            if not port.isdigit() or not 0 < int(port) < 65536:
                raise ValueError(f"PORT={port!r} is not a TCP port number")
            self.port = int(port)
        if not self.secret_key:
            self.secret_key = secrets.token_hex(32)
        if self.demo:
            for name, cap in DEMO_CAPS.items():
                if name in type(self).model_fields and name not in self.model_fields_set:
                    current = getattr(self, name)  # 0 means "no limit" for some of them
                    setattr(self, name, min(current, cap) if current else cap)
            if "owner_only" not in self.model_fields_set:
                self.owner_only = True
        return self

    def limits(self) -> Limits:
        # Every Limits field has a setting of the same name (env PLAYGROUND_<NAME>).
        return Limits(**{f.name: getattr(self, f.name) for f in fields(Limits)})

    def worker_count(self) -> int:
        return self.workers or cpu_limit()  # the container's CPU quota, not the host's cores

    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'playground.db'}"

    def embeddable(self) -> bool:
        """Whether another site may frame the app (then cookies must be cross-site)."""
        return self.frame_ancestors != "'none'"


# A CSP source expression allowed in frame-ancestors: 'self', a scheme ("https:") or a
# host source ("https://*.example.org:8443"); no quotes, commas or semicolons that could
# end the directive and smuggle another into the header.
FRAME_SOURCE = re.compile(
    r"'self'|\*|[a-z][a-z0-9+.-]*:|"
    r"(?:[a-z][a-z0-9+.-]*://)?(?:\*\.)?[a-z0-9-]+(?:\.[a-z0-9-]+)*"  # scheme, host
    r"(?::(?:\d{1,5}|\*))?(?:/[\w./~%-]*)?",  # port, path
    re.IGNORECASE,
)


# Demo mode on a small shared host (2 vCPU): what one visitor may ask of it. Caps apply
# only to fields that exist (names of later settings may be added here freely).
DEMO_CAPS: dict[str, Any] = {
    "max_layers": 6,
    "max_units": 32,
    "max_samples": 1000,
    "max_epochs": 1000,
    "max_steps": 50_000,
    "max_batch_size": 1000,
    "max_grid": 64,
    "max_seq_len": 100,
    "max_rnn_layers": 2,
    "max_d_model": 64,
    "max_ffn": 256,
    "max_channels": 16,
    "max_queued": 16,
    "max_runs_per_client": 2,
    "max_run_seconds": 120.0,
    "max_paused_seconds": 300.0,
    "max_body_bytes": 262_144,
    "idle_run_seconds": 300.0,
    "create_per_minute": 12.0,
    "create_burst": 6,
    "max_upload_bytes": 262_144,
    "landscape_max_steps": 21,
    "landscape_max_samples": 500,
    "landscape_max_trajectory": 100,
    "landscape_queue": 2,
    "landscape_per_minute": 6.0,
    "max_sockets_per_visitor": 8,  # a few tabs of runs and comparisons
    "max_sockets_per_address": 32,  # several visitors behind one address
}


@lru_cache
def get_settings() -> Settings:
    return Settings()
