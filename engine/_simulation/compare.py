"""Compare variants of a process with common random numbers, replications and confidence intervals.

A scenario file (TOML) names the variants; paths in it are relative to the file:

    title = "武侯 reform: serial approval vs one-window joint review"
    replications = 10              # R ≥ 2 independent replications
    seed = 1                       # replication r runs every variant with the same seed: derived(seed, r)
    confidence = 0.95
    baseline = "before"            # differences are variant − baseline (default: the first variant)
    cases = 500                    # or days = 60; the next keys are defaults every variant may override
    arrivals = 8                   # cases per working day
    arrival_process = "even"       # or "poisson"
    start = "2026-03-02"
    calendar = "overrides.csv"     # optional working-day overrides

    [[variants]]
    name = "before"
    title = "串联审批: 商务局 → 投促局 → 财政局"
    matter = "foreign_investment_serial.bpmn"   # a BPMN path (catalogue beside it) or a matter key
    params = "serial.params.toml"               # optional parameters file
    staff = { window = 2, commerce = 2, investment = 1, finance = 1, issuing = 1 }

    [[variants]]
    name = "after"
    matter = "foreign_investment_filing"
    staff = { window = 2, commerce = 2, investment = 1, finance = 1, issuing = 1 }

Common random numbers: within a replication every variant gets the same seed, so the same arrivals
and, for each case, the same draws per task id (streams are keyed by seed, case and task), whatever the
other cases do. Differences are therefore paired per replication: mean difference ± t(R−1) · s/√R. The
same is reported for the 95th percentile of cycle time. Replication r of a variant is exactly
``onewindow simulate … --seed <its seed>`` (the seeds are listed in the JSON).
"""

from __future__ import annotations

import hashlib
import json
import math
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

from .._errors import ConfigError, names_config_file
from .._time.workcalendar import WorkCalendar, load_overrides
from .kernel import ARRIVAL_PROCESSES, RunConfig
from .model import SimModel, load_model
from .params import SimParams, load_params
from .results import _r, _table

__all__ = ["Comparison", "Scenario", "Variant", "load_scenario", "replication_seed", "run_scenario", "t_quantile"]

_TOP = ("title", "replications", "seed", "confidence", "baseline", "cases", "days", "arrivals",
        "arrival_process", "start", "calendar", "variants")  # fmt: skip
_VARIANT = ("name", "title", "matter", "params", "staff", "cases", "days", "arrivals", "arrival_process", "start")
METRICS = ("mean_cycle", "p95_cycle", "share_over_committed", "share_over_legal", "visits", "submissions", "materials")
APPLICANT = ("visits", "submissions", "materials")  # the applicant's, per completed case


@dataclass(frozen=True)
class Variant:
    name: str
    title: str
    model: SimModel
    params: SimParams
    config: RunConfig


@dataclass(frozen=True)
class Scenario:
    path: Path
    title: str
    replications: int
    seed: int
    confidence: float
    baseline: str
    variants: tuple[Variant, ...]
    calendar: WorkCalendar

    def total_cases(self) -> int:
        return self.replications * sum(
            v.config.cases or int((v.config.days or 0) * v.config.arrivals) for v in self.variants
        )


def replication_seed(seed: int, replication: int) -> int:
    digest = hashlib.blake2b(f"{seed}|replication|{replication}".encode(), digest_size=4).digest()
    return int.from_bytes(digest, "little")


# -- Student's t, without SciPy -------------------------------------------------------------------------
def _betacf(a: float, b: float, x: float) -> float:
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1, a - 1
    c, d = 1.0, 1 - qab * x / qap
    d = 1 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 300):
        m2 = 2 * m
        for aa in (m * (b - m) * x / ((qam + m2) * (a + m2)), -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))):
            d = 1 + aa * d
            d = 1 / (d if abs(d) > tiny else tiny)
            c = 1 + aa / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1) < 1e-15:
            break
    return h


def _incomplete_beta(a: float, b: float, x: float) -> float:
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1) / (a + b + 2):
        return front * _betacf(a, b, x) / a
    return 1 - front * _betacf(b, a, 1 - x) / b


def _t_cdf(t: float, df: float) -> float:
    tail = 0.5 * _incomplete_beta(df / 2, 0.5, df / (df + t * t))
    return 1 - tail if t >= 0 else tail


def t_quantile(p: float, df: float) -> float:
    """The p-quantile of Student's t with ``df`` degrees of freedom (bisection on the CDF)."""
    if not 0 < p < 1:
        raise ValueError("p must be in (0, 1)")
    if p < 0.5:
        return -t_quantile(1 - p, df)
    low, high = 0.0, 1.0
    while _t_cdf(high, df) < p:
        high *= 2
    for _ in range(200):
        mid = (low + high) / 2
        if _t_cdf(mid, df) < p:
            low = mid
        else:
            high = mid
    return (low + high) / 2


def _interval(values: list[float], confidence: float) -> dict[str, float]:
    n = len(values)
    mean = sum(values) / n
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1)) if n > 1 else 0.0
    half = t_quantile((1 + confidence) / 2, n - 1) * sd / math.sqrt(n) if n > 1 else 0.0
    return {"mean": _r(mean), "half_width": _r(half), "low": _r(mean - half), "high": _r(mean + half)}


# -- the scenario file ----------------------------------------------------------------------------------
def _number(raw: dict[str, Any], key: str, where: str, *, integer: bool = False, low: float = 0.0) -> Any:
    value = raw[key]
    kinds = int if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds) or value < low or (not integer and value <= 0):
        what = f"a whole number ≥ {low:g}" if integer else "a positive number"
        raise ConfigError(f"{where}: {key} must be {what}, got {value!r}")
    return value


def read_scenario_toml(path: Path) -> dict[str, Any]:
    """A scenario file's table, or one line naming the file (the one-matter and the whole-bureau scenarios)."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise ConfigError(f"{path}: cannot read scenario: {err.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise ConfigError(f"{path}: invalid TOML: {err}") from None


@names_config_file
def load_scenario(path: Path, *, replications: int | None = None, seed: int | None = None) -> Scenario:
    path = Path(path)
    raw = read_scenario_toml(path)
    where = str(path)
    for key in raw:
        if key not in _TOP:
            raise ConfigError(f"{where}: unknown key '{key}'; known: {', '.join(_TOP)}")
    if replications is not None:
        raw["replications"] = replications
    if seed is not None:
        raw["seed"] = seed
    raw.setdefault("replications", 10)
    raw.setdefault("seed", 1)
    raw.setdefault("confidence", 0.95)
    reps = _number(raw, "replications", where, integer=True, low=2)
    the_seed = raw["seed"]
    if isinstance(the_seed, bool) or not isinstance(the_seed, int):
        raise ConfigError(f"{where}: seed must be a whole number, got {the_seed!r}")
    confidence = raw["confidence"]
    if isinstance(confidence, bool) or not isinstance(confidence, float | int) or not 0 < confidence < 1:
        raise ConfigError(f"{where}: confidence must be between 0 and 1 (e.g. 0.95), got {confidence!r}")
    calendar = WorkCalendar(load_overrides(path.parent / raw["calendar"])) if "calendar" in raw else WorkCalendar()
    day_minutes = calendar.office_hours.hours_per_day() * 60
    variants_raw = raw.get("variants")
    if not isinstance(variants_raw, list) or len(variants_raw) < 2:
        raise ConfigError(f"{where}: a scenario needs at least two [[variants]]")
    variants: list[Variant] = []
    for i, v in enumerate(variants_raw, 1):
        at = f"{where}: variants #{i}"
        if not isinstance(v, dict):
            raise ConfigError(f"{at}: expected a table")
        for key in v:
            if key not in _VARIANT:
                raise ConfigError(f"{at}: unknown key '{key}'; known: {', '.join(_VARIANT)}")
        for key in ("name", "matter"):
            if not isinstance(v.get(key), str) or not v[key].strip():
                raise ConfigError(f"{at}: '{key}' is required")
        at = f"{where}: variants '{v['name']}'"
        if any(x.name == v["name"] for x in variants):
            raise ConfigError(f"{at}: two variants share this name")
        merged: dict[str, Any] = {
            k: raw[k] for k in ("cases", "days", "arrivals", "arrival_process", "start") if k in raw
        }
        merged.update(v)
        if "arrivals" not in merged:
            raise ConfigError(f"{at}: arrivals (cases per working day) is required")
        if ("cases" in merged) == ("days" in merged):
            raise ConfigError(f"{at}: give either cases or days")
        process = str(merged.get("arrival_process", "even"))
        if process not in ARRIVAL_PROCESSES:
            raise ConfigError(f"{at}: arrival_process must be one of {', '.join(ARRIVAL_PROCESSES)}")
        try:
            start = date.fromisoformat(str(merged.get("start", "2026-03-02")))
        except ValueError:
            raise ConfigError(f"{at}: start must be a date (YYYY-MM-DD)") from None
        staff = v.get("staff", {})
        if not isinstance(staff, dict):
            raise ConfigError(f"{at}: staff must be a table of LANE = COUNT")
        model = load_model(v["matter"], base_dir=path.parent)
        params_path = path.parent / v["params"] if "params" in v else None
        params = load_params(params_path, model, day_minutes=day_minutes)
        config = RunConfig(
            arrivals=_number(merged, "arrivals", at),
            staff={str(k): n for k, n in staff.items()},
            cases=_number(merged, "cases", at, integer=True, low=1) if "cases" in merged else None,
            days=_number(merged, "days", at) if "days" in merged else None,
            start=start,
            arrival_process=process,
        )
        variants.append(Variant(v["name"], str(v.get("title", v["name"])), model, params, config))
    baseline = str(raw.get("baseline", variants[0].name))
    if baseline not in [v.name for v in variants]:
        raise ConfigError(
            f"{where}: baseline '{baseline}' is not a variant; variants: {', '.join(v.name for v in variants)}"
        )
    title = str(raw.get("title", path.stem))
    return Scenario(path, title, reps, the_seed, float(confidence), baseline, tuple(variants), calendar)


# -- running --------------------------------------------------------------------------------------------
@dataclass
class Comparison:
    scenario: Scenario
    summary: dict[str, Any]

    def to_json(self) -> str:
        return json.dumps(self.summary, ensure_ascii=False, indent=2, sort_keys=True) + "\n"

    def table(self) -> str:
        s = self.summary
        pct = round(s["confidence"] * 100)
        out = [
            f"Scenario 方案比较: {s['title']}",
            f"  {s['replications']} replications, seed {s['seed']}, common random numbers, {pct}% confidence intervals",
            "",
            "Cycle time 办理周期 (working days, arrival → completion; mean over replications ± half-width)",
        ]
        rows = []
        for name, v in s["variants"].items():
            m, p = v["mean_cycle"], v["p95_cycle"]
            rows.append(
                [
                    name if v["title"] == name else f"{name}: {v['title']}",
                    f"{m['mean']:.2f} ± {m['half_width']:.2f}",
                    f"{p['mean']:.2f} ± {p['half_width']:.2f}",
                    f"{v['share_over_committed']['mean'] * 100:.1f}%",
                    f"{v['share_over_legal']['mean'] * 100:.1f}%",
                ]
            )
        out.extend(_table(["variant", "mean", "p95", "over committed", "over legal"], rows))
        out += ["", f"Difference from {s['baseline']} (paired per replication; {pct}% confidence interval)"]
        rows = [
            [
                name,
                f"{d['mean_cycle']['mean']:+.2f} [{d['mean_cycle']['low']:+.2f}, {d['mean_cycle']['high']:+.2f}]",
                f"{d['p95_cycle']['mean']:+.2f} [{d['p95_cycle']['low']:+.2f}, {d['p95_cycle']['high']:+.2f}]",
            ]
            for name, d in s["differences"].items()
        ]
        out.extend(_table(["variant", "mean cycle", "p95 cycle"], rows))
        if any(v[m]["mean"] for v in s["variants"].values() for m in APPLICANT):
            out += [
                "",
                "Applicant 申请人 (mean per completed case, over replications; visits as the parameters declare)",
            ]
            rows = [[name, *(f"{v[m]['mean']:.2f}" for m in APPLICANT)] for name, v in s["variants"].items()]
            out.extend(_table(["variant", "visits 跑动", "submissions 交件", "materials 材料"], rows))
        return "\n".join(out) + "\n"


def run_scenario(scenario: Scenario, *, progress: Callable[[int], None] | None = None) -> Comparison:
    from . import simulate as simulate

    per: dict[str, dict[str, list[float]]] = {v.name: {m: [] for m in METRICS} for v in scenario.variants}
    seeds = [replication_seed(scenario.seed, r) for r in range(scenario.replications)]
    for seed in seeds:
        for variant in scenario.variants:
            result = simulate(
                variant.model, variant.params, replace(variant.config, seed=seed), calendar=scenario.calendar,
                progress=progress,
            )  # fmt: skip
            s = result.summary
            per[variant.name]["mean_cycle"].append(s["cycle_time_working_days"]["mean"])
            per[variant.name]["p95_cycle"].append(s["cycle_time_working_days"]["p95"])
            per[variant.name]["share_over_committed"].append(s["limits"]["committed"]["share_over"])
            per[variant.name]["share_over_legal"].append(s["limits"]["legal"]["share_over"])
            for m in APPLICANT:
                per[variant.name][m].append(s["applicant_per_case"][m])
    conf = scenario.confidence
    variants: dict[str, dict[str, Any]] = {}
    for v in scenario.variants:
        variants[v.name] = {m: _interval(per[v.name][m], conf) for m in METRICS}
        variants[v.name].update(
            title=v.title,
            matter=v.model.key,
            committed_limit=str(v.model.matter.committed_limit),
            legal_limit=str(v.model.matter.legal_limit),
            per_replication={m: per[v.name][m] for m in ("mean_cycle", "p95_cycle")},
        )
    base = per[scenario.baseline]
    differences = {
        v.name: {
            m: _interval([a - b for a, b in zip(per[v.name][m], base[m], strict=True)], conf)
            for m in ("mean_cycle", "p95_cycle")
        }
        for v in scenario.variants
        if v.name != scenario.baseline
    }
    summary = {
        "title": scenario.title,
        "replications": scenario.replications,
        "seed": scenario.seed,
        "replication_seeds": seeds,
        "confidence": scenario.confidence,
        "baseline": scenario.baseline,
        "variants": variants,
        "differences": differences,
        "unit": "working days",
    }
    return Comparison(scenario, summary)
