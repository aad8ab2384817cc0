"""Fault injection for the sandbox store: the failures a real store and network produce, on demand.

Each request draws from one seeded random generator, so a run with the same seed and the same request
order fails the same way. Faults apply to BigCommerce paths only, never to /_sandbox/ actions.

Besides the random rates, scripted rules fail chosen requests exactly (`rules` in the options):

    {"method": "PUT", "path": "/v3/inventory/adjustments/absolute", "status": 500, "times": 2}
    {"method": "GET", "path": "/v2/orders", "delay_ms": 3000, "times": 5}
    {"path": "^/v2/orders/\\d+$", "drop": true}

`path` is matched against the request path after /stores/{hash} (no query string): as a prefix, or as a
regular expression (re.search) when it starts with `^`. `method` is optional (any method). Each rule acts
on the next `times` matching requests (default 1; null: every one) and is then used up. `status` answers
that status before the request is handled (429 answers like a storm, with the rate-limit headers); `delay_ms`
holds the answer back; `drop` handles the request and closes the connection without an answer. Every
matching rule that is not used up acts on a request (so a status rule and a delay rule can both apply), in
the order given; rules are checked after the random draws, which they never shift."""
from __future__ import annotations

import random
import re
import threading
from dataclasses import asdict, dataclass, field, fields

RULE_KEYS = frozenset({"method", "path", "status", "delay_ms", "drop", "times"})
RULE_METHODS = frozenset({"GET", "PUT", "POST", "DELETE"})


def normalize_rule(rule) -> dict:
    """A rule as the options keep it (upper-case method, ints, defaults filled); ValueError if invalid."""
    if not isinstance(rule, dict):
        raise ValueError("each fault rule must be an object")
    unknown = set(rule) - RULE_KEYS
    if unknown:
        raise ValueError(f"unknown fault rule key(s): {', '.join(sorted(unknown))}")
    path = rule.get("path")
    if not isinstance(path, str) or not path.startswith(("/", "^")):
        raise ValueError("a fault rule needs a path starting with / (a prefix) or ^ (a regular expression)")
    if path.startswith("^"):
        try:
            re.compile(path)
        except re.error as exc:
            raise ValueError(f"the fault rule path {path!r} is not a valid regular expression: {exc}") from None
    method = rule.get("method")
    if method is not None:
        if not isinstance(method, str) or method.upper() not in RULE_METHODS:
            raise ValueError(f"a fault rule method must be one of {', '.join(sorted(RULE_METHODS))}")
        method = method.upper()
    status = rule.get("status")
    if status is not None and (not isinstance(status, int) or isinstance(status, bool) or not 400 <= status <= 599):
        raise ValueError("a fault rule status must be an HTTP error status (400-599)")
    delay_ms = rule.get("delay_ms", 0)
    if not isinstance(delay_ms, int) or isinstance(delay_ms, bool) or delay_ms < 0:
        raise ValueError("a fault rule delay_ms must be a non-negative integer")
    drop = rule.get("drop", False)
    if not isinstance(drop, bool):
        raise ValueError("a fault rule drop must be true or false")
    if status is None and not delay_ms and not drop:
        raise ValueError("a fault rule needs a status, a delay_ms or drop")
    if status is not None and drop:
        raise ValueError("a fault rule either answers a status or drops the connection, not both")
    times = rule.get("times", 1)
    if times is not None and (not isinstance(times, int) or isinstance(times, bool) or times < 1):
        raise ValueError("a fault rule times must be a positive integer, or null for every request")
    return {"method": method, "path": path, "status": status, "delay_ms": delay_ms, "drop": drop, "times": times}


@dataclass(slots=True)
class _LiveRule:
    """A rule with how many requests it has acted on."""
    method: str | None
    path: str
    status: int | None
    delay_ms: int
    drop: bool
    times: int | None
    pattern: re.Pattern | None = None
    used: int = 0

    def matches(self, method: str, path: str) -> bool:
        if self.times is not None and self.used >= self.times:
            return False
        if self.method is not None and self.method != method:
            return False
        return bool(self.pattern.search(path)) if self.pattern is not None else path.startswith(self.path)


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
    rules: tuple = ()  # scripted rules (see the module's docstring), each a dict

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
        if not isinstance(config.rules, (list, tuple)):
            raise ValueError("rules must be a list of rule objects")
        config.rules = tuple(normalize_rule(rule) for rule in config.rules)
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
        data["rules"] = [dict(rule) for rule in self.rules]
        return data


@dataclass
class FaultPlan:
    """What to do with one request."""
    error_status: int | None = None
    storm: bool = False
    delay_s: float = 0.0
    drop: bool = False
    malformed: bool = False
    rules: list = field(default_factory=list)  # indexes of the scripted rules that acted on the request


class FaultInjector:
    def __init__(self, config: FaultConfig | None = None):
        self._lock = threading.Lock()
        self._rules: list[_LiveRule] = []
        self.config = FaultConfig()
        self.configure(config or FaultConfig())

    def configure(self, config: FaultConfig, *, keep_rules: bool = False) -> None:
        """New options: the generator is seeded again and the counts start at 0. The rules start unused,
        unless `keep_rules`: then the live rules (and how far they are used) stay as they were."""
        with self._lock:
            if keep_rules:
                config.rules = self.config.rules
            else:
                config.rules = tuple(normalize_rule(rule) for rule in config.rules)  # FaultConfig(...) too
                self._rules = [self._live(rule) for rule in config.rules]
            self.config = config
            self._rng = random.Random(config.seed)
            self.counts = {"error": 0, "storm": 0, "delay": 0, "drop": 0, "malformed": 0, "rule": 0}

    @staticmethod
    def _live(rule: dict) -> _LiveRule:
        pattern = re.compile(rule["path"]) if rule["path"].startswith("^") else None
        return _LiveRule(**rule, pattern=pattern)

    def add_rule(self, rule: dict | None = None, **fields_) -> dict:
        """Append a scripted rule at run time (a dict, or keyword arguments); the other rules, the random
        generator and the counts carry on. Returns the rule as kept."""
        normalized = normalize_rule({**(rule or {}), **fields_})
        with self._lock:
            self.config.rules = (*self.config.rules, normalized)
            self._rules.append(self._live(normalized))
        return normalized

    def clear_rules(self) -> None:
        with self._lock:
            self.config.rules = ()
            self._rules = []

    def rules_used(self) -> list[int]:
        """How many requests each rule has acted on, in the order of `config.rules`."""
        with self._lock:
            return [rule.used for rule in self._rules]

    def plan(self, method: str = "", path: str = "") -> FaultPlan:
        """Draw the same number of numbers for every request so one fault kind never shifts another,
        then let the scripted rules that match `method` and `path` (after /stores/{hash}) act."""
        with self._lock:
            plan = self._random_plan()
            for index, rule in enumerate(self._rules):
                if not rule.matches(method, path):
                    continue
                rule.used += 1
                self.counts["rule"] += 1
                plan.rules.append(index)
                if rule.status is not None and plan.error_status is None and not plan.storm:
                    if rule.status == 429:
                        plan.storm = True
                    else:
                        plan.error_status = rule.status
                if rule.delay_ms:
                    plan.delay_s += rule.delay_ms / 1000.0
                if rule.drop:
                    plan.drop = True
            if plan.error_status is not None or plan.storm:
                plan.drop = plan.malformed = False  # answered before handling: nothing to drop or cut
            return plan

    def _random_plan(self) -> FaultPlan:
        """The random faults (the lock is held)."""
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
