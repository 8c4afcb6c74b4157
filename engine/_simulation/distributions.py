"""Random durations on the working-time axis, and the random streams that draw them.

A duration is written ``"<distribution>(<parameters>) <unit>"``:

    fixed(v)                     always v
    uniform(a, b)                a ≤ x ≤ b, every value alike
    triangular(min, mode, max)   min ≤ mode ≤ max
    lognormal(mean, sd)          the MEAN and STANDARD DEVIATION of the durations themselves (not of their
                                 logarithm): "lognormal(2, 0.5) working_hours" averages 2 h
    exponential(mean)            memoryless, mean > 0

and the unit is ``working_minutes``, ``working_hours`` or ``working_days`` (工作分钟, 工作小时, 工作日;
a working day is one office day, 7 h with the default office hours). A bare number with a unit, such as
``"2 working_hours"``, is ``fixed(2)``. Natural time has no place on the working-time axis and is refused.

Every draw is an inverse-transform of one uniform number, so common random numbers line up between
variants. Uniform numbers come from SplitMix64 streams keyed by (seed, case, task): a case's draws do not
depend on the order in which other cases happen to run, and the generator is specified here, so the same
seed gives the same numbers on every Python version.
"""

from __future__ import annotations

import hashlib
import math
import re
import unicodedata
from dataclasses import dataclass
from statistics import NormalDist

from .._errors import ConfigError

__all__ = ["DISTRIBUTIONS", "Distribution", "Duration", "Stream", "parse_duration", "stream_for"]

_MASK = (1 << 64) - 1
_STD_NORMAL = NormalDist()


class Stream:
    """A SplitMix64 generator of uniform numbers in (0, 1)."""

    __slots__ = ("_s",)

    def __init__(self, state: int) -> None:
        self._s = state & _MASK

    def uniform(self) -> float:
        self._s = s = (self._s + 0x9E3779B97F4A7C15) & _MASK
        z = ((s ^ (s >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
        z ^= z >> 31
        return ((z >> 11) + 0.5) * (1.0 / 9007199254740992.0)  # never exactly 0 or 1


def stream_for(seed: int, *key: object) -> Stream:
    """The stream of ``key`` (e.g. case number and task id) under ``seed``."""
    text = "\x1f".join(str(k) for k in (seed, *key)).encode()
    return Stream(int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "little"))


@dataclass(frozen=True)
class Distribution:
    kind: str
    params: tuple[float, ...]

    def sample(self, stream: Stream) -> float:
        kind, p = self.kind, self.params
        if kind == "fixed":
            return p[0]
        u = stream.uniform()
        if kind == "uniform":
            return p[0] + (p[1] - p[0]) * u
        if kind == "triangular":
            lo, mode, hi = p
            if hi == lo:
                return lo
            cut = (mode - lo) / (hi - lo)
            if u < cut:
                return lo + math.sqrt(u * (hi - lo) * (mode - lo))
            return hi - math.sqrt((1 - u) * (hi - lo) * (hi - mode))
        if kind == "exponential":
            return -p[0] * math.log(1.0 - u)
        # lognormal from the mean m and standard deviation s of the durations themselves
        mean, sd = p
        sigma2 = math.log1p((sd / mean) ** 2)
        return math.exp(math.log(mean) - sigma2 / 2 + math.sqrt(sigma2) * _STD_NORMAL.inv_cdf(u))

    @property
    def mean(self) -> float:
        kind, p = self.kind, self.params
        if kind == "uniform":
            return (p[0] + p[1]) / 2
        if kind == "triangular":
            return sum(p) / 3
        return p[0]  # fixed, exponential and lognormal are written with their mean first

    def __str__(self) -> str:
        return f"{self.kind}({', '.join(f'{v:g}' for v in self.params)})"


# name -> the parameters it takes (their names, for the error message)
DISTRIBUTIONS: dict[str, tuple[str, ...]] = {
    "fixed": ("value",),
    "uniform": ("min", "max"),
    "triangular": ("min", "mode", "max"),
    "lognormal": ("mean", "sd"),
    "exponential": ("mean",),
}

_UNITS: dict[str, str] = {
    **dict.fromkeys(("working_minutes", "working_minute", "wm", "工作分钟"), "working_minutes"),
    **dict.fromkeys(("working_hours", "working_hour", "wh", "工作小时", "工作时"), "working_hours"),
    **dict.fromkeys(("working_days", "working_day", "wd", "工作日"), "working_days"),
}
_NATURAL = {"natural_days", "natural_hours", "days", "hours", "minutes", "day", "hour", "minute", "d", "h", "min"}
_CALL = re.compile(r"([A-Za-z_]+)\s*\(([^()]*)\)\s*(.*)")
_BARE = re.compile(r"([-+0-9.eE]+)\s+(.+)")


def _check(kind: str, values: tuple[float, ...], where: str) -> None:
    names = DISTRIBUTIONS[kind]
    if len(values) != len(names):
        raise ConfigError(
            f"{where}: {kind} takes {len(names)} parameter{'s' if len(names) > 1 else ''} "
            f"({', '.join(names)}), got {len(values)}"
        )
    for name, v in zip(names, values, strict=True):
        if not math.isfinite(v):
            raise ConfigError(f"{where}: {kind} {name} must be a finite number, got {v!r}")
        if v < 0:
            raise ConfigError(f"{where}: {kind} {name} must not be negative, got {v:g}")
    if kind == "uniform" and values[0] > values[1]:
        raise ConfigError(f"{where}: uniform min {values[0]:g} > max {values[1]:g}")
    if kind == "triangular":
        lo, mode, hi = values
        if lo > hi:
            raise ConfigError(f"{where}: triangular min {lo:g} > max {hi:g}")
        if not lo <= mode <= hi:
            raise ConfigError(f"{where}: triangular mode {mode:g} is outside [min {lo:g}, max {hi:g}]")
    if kind in ("lognormal", "exponential") and values[0] <= 0:
        raise ConfigError(f"{where}: {kind} mean must be positive, got {values[0]:g}")


@dataclass(frozen=True)
class Duration:
    """A distribution and the working minutes one unit of it stands for."""

    dist: Distribution
    unit: str
    minutes_per_unit: float

    def sample(self, stream: Stream) -> float:
        """Working minutes."""
        return self.dist.sample(stream) * self.minutes_per_unit

    @property
    def mean_minutes(self) -> float:
        return self.dist.mean * self.minutes_per_unit

    @property
    def is_zero(self) -> bool:
        return self.dist.kind == "fixed" and self.dist.params[0] == 0

    def __str__(self) -> str:
        return f"{self.dist} {self.unit}"


def parse_duration(text: object, where: str, *, day_minutes: float) -> Duration:
    """Parse ``"triangular(0.5, 1, 2) working_hours"``; ``where`` names the file and key for errors."""
    if not isinstance(text, str):
        raise ConfigError(f'{where}: expected a duration such as "triangular(0.5, 1, 2) working_hours", got {text!r}')
    source = unicodedata.normalize("NFKC", text).strip()
    call = _CALL.fullmatch(source)
    if call:
        kind, raw, unit_word = call[1].lower(), call[2], call[3]
        if kind not in DISTRIBUTIONS:
            raise ConfigError(f"{where}: unknown distribution '{call[1]}'; known: {', '.join(DISTRIBUTIONS)}")
        parts = [p.strip() for p in raw.split(",")] if raw.strip() else []
    else:
        bare = _BARE.fullmatch(source)
        if not bare:
            raise ConfigError(
                f'{where}: cannot read duration {text!r}; write e.g. "triangular(0.5, 1, 2) working_hours"'
            )
        kind, parts, unit_word = "fixed", [bare[1]], bare[2]
    try:
        values = tuple(float(p) for p in parts)
    except ValueError:
        raise ConfigError(f"{where}: {kind} parameters must be numbers, got ({raw if call else parts[0]})") from None
    _check(kind, values, where)
    key = re.sub(r"[\s\-]+", "_", unit_word.strip().lower()).strip("_").lstrip("个個")
    if not key:
        raise ConfigError(f"{where}: {text!r} has no unit; add working_minutes, working_hours or working_days")
    if key not in _UNITS:
        hint = " (natural time does not run on the working-time axis)" if key in _NATURAL else ""
        raise ConfigError(
            f"{where}: unknown unit '{unit_word.strip()}'{hint}; use working_minutes, working_hours or working_days"
        )
    unit = _UNITS[key]
    per = {"working_minutes": 1.0, "working_hours": 60.0, "working_days": day_minutes}[unit]
    return Duration(Distribution(kind, values), unit, per)
