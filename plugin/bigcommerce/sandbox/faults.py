"""Fault injection for the sandbox store: the failures a real store and network produce, on demand.

Each request draws from one seeded random generator, so a run with the same seed and the same request
order fails the same way. Faults apply to BigCommerce paths only, never to /_sandbox/ actions."""
from __future__ import annotations

import random
import threading
from dataclasses import asdict, dataclass, fields


@dataclass
class FaultConfig:
    error_rate: float = 0.0  # share of requests answered 500/502/503 before they are handled
    error_statuses: tuple = (500, 502, 503)
    delay_ms: int = 0  # added to answers picked by delay_rate
    delay_rate: float = 1.0
    drop_rate: float = 0.0  # share of requests handled, then closed without an answer (outcome unknown)
    malformed_rate: float = 0.0  # share of JSON answers cut short (status 200, invalid JSON)
    storm_rate: float = 0.0  # share of requests answered 429 with a short reset
    storm_reset_ms: int = 300
    seed: int = 0

    @classmethod
    def from_dict(cls, data: dict, base: FaultConfig | None = None) -> FaultConfig:
        known = {item.name for item in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown fault option(s): {', '.join(sorted(unknown))}")
        values = asdict(base) if base else {}
        values.update(data)
        config = cls(**values)
        config.error_statuses = tuple(int(status) for status in config.error_statuses)
        for name in ("error_rate", "delay_rate", "drop_rate", "malformed_rate", "storm_rate"):
            rate = float(getattr(config, name))
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1")
            setattr(config, name, rate)
        for name in ("delay_ms", "storm_reset_ms", "seed"):
            if int(getattr(config, name)) < 0:
                raise ValueError(f"{name} must not be negative")
            setattr(config, name, int(getattr(config, name)))
        return config

    def to_dict(self) -> dict:
        data = asdict(self)
        data["error_statuses"] = list(self.error_statuses)
        return data


@dataclass
class FaultPlan:
    """What to do with one request."""
    error_status: int | None = None
    storm: bool = False
    delay_s: float = 0.0
    drop: bool = False
    malformed: bool = False


class FaultInjector:
    def __init__(self, config: FaultConfig | None = None):
        self._lock = threading.Lock()
        self.configure(config or FaultConfig())

    def configure(self, config: FaultConfig) -> None:
        with self._lock:
            self.config = config
            self._rng = random.Random(config.seed)
            self.counts = {"error": 0, "storm": 0, "delay": 0, "drop": 0, "malformed": 0}

    def plan(self) -> FaultPlan:
        """Draw the same number of numbers for every request so one fault kind never shifts another."""
        with self._lock:
            config = self.config
            draws = [self._rng.random() for _ in range(6)]
            plan = FaultPlan()
            if draws[0] < config.error_rate:
                plan.error_status = config.error_statuses[int(draws[1] * len(config.error_statuses))]
                self.counts["error"] += 1
                return plan
            if draws[2] < config.storm_rate:
                plan.storm = True
                self.counts["storm"] += 1
                return plan
            if config.delay_ms and draws[3] < config.delay_rate:
                plan.delay_s = config.delay_ms / 1000.0
                self.counts["delay"] += 1
            if draws[4] < config.drop_rate:
                plan.drop = True
                self.counts["drop"] += 1
            elif draws[5] < config.malformed_rate:
                plan.malformed = True
                self.counts["malformed"] += 1
            return plan
