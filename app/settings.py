"""All settings in one place (env prefix PLAYGROUND_); every limit and URL lives here."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

from app.nn.spec import Limits


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

    # Server.
    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: Path = Path("data")
    database_url: str = ""  # default: sqlite file in data_dir

    # Execution.
    executor: str = "local"  # local | queue
    workers: int = 0  # 0 = number of CPU cores
    torch_threads: int = 1

    def limits(self) -> Limits:
        return Limits(
            max_layers=self.max_layers,
            max_units=self.max_units,
            max_samples=self.max_samples,
            max_epochs=self.max_epochs,
            max_steps=self.max_steps,
            max_batch_size=self.max_batch_size,
            min_lr=self.min_lr,
            max_lr=self.max_lr,
            max_grid=self.max_grid,
        )

    def worker_count(self) -> int:
        return self.workers or os.cpu_count() or 1

    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'playground.db'}"


@lru_cache
def get_settings() -> Settings:
    return Settings()
