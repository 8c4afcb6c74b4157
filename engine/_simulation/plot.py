"""A one-page PNG of a run: the cycle-time histogram with the limits marked, and utilisation per lane.

matplotlib is imported only here, only when a plot is asked for, with the Agg backend (no display).
Lane names are drawn in Chinese when a CJK font is installed, otherwise by section code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .._time.workcalendar import parse_limit
from .kernel import RunData

__all__ = ["write_plot"]

_CJK_FONTS = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "SimHei",
    "Microsoft YaHei",
    "PingFang SC",
    "AR PL UMing CN",
)


def _cjk_font(font_manager: Any) -> str | None:
    installed = {f.name for f in font_manager.fontManager.ttflist}
    return next((name for name in _CJK_FONTS if name in installed), None)


def write_plot(data: RunData, summary: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import font_manager
    from matplotlib import pyplot as plt

    cjk = _cjk_font(font_manager)
    family = [cjk, "DejaVu Sans"] if cjk else ["DejaVu Sans"]
    model = data.model
    day = data.axis.day_minutes
    cycle = sorted((r.end - r.arrival) / day for r in data.records if r.end is not None)
    handling = sorted(r.handling / day for r in data.records if r.end is not None and r.handling is not None)
    with matplotlib.rc_context({"font.family": family, "axes.unicode_minus": False, "svg.hashsalt": "onewindow"}):
        fig, (hist, bars) = plt.subplots(
            1, 2, figsize=(12, 4.8), gridspec_kw={"width_ratios": [3, 2]}, layout="constrained"
        )
        title = f"{model.matter.name} ({model.key})" if cjk else model.key
        c = summary["config"]
        fig.suptitle(
            f"{title}: {summary['cases']['completed']} cases, {c['arrivals_per_working_day']:g} arrivals per "
            f"working day, seed {c['seed']}",
            fontsize=12,
        )
        top = max(cycle, default=1.0)
        low = min([*cycle, *handling], default=0.0)
        count = max(10, min(60, int(len(cycle) ** 0.5) * 2))
        bins = [low + (top - low) * i / count for i in range(count + 1)] if top > low else count
        if cycle:
            hist.hist(cycle, bins=bins, color="#4C72B0", alpha=0.85, label="cycle time (arrival → completion)")
        if handling:
            hist.hist(handling, bins=bins, histtype="step", color="#222222", linewidth=1.2,
                      label="handling time (acceptance → completion)")  # fmt: skip
        for which, color in (("committed", "#DD8452"), ("legal", "#C44E52")):
            limit = getattr(model.matter, f"{which}_limit")
            share = summary["limits"][which]["share_over"] * 100
            value, unit = parse_limit(str(limit))
            text = f"{which} limit {limit} ({share:.1f}% over)"
            if unit == "working_days" and value <= top * 1.5:
                hist.axvline(value, color=color, linestyle="--", linewidth=1.8, label=text)
            else:
                # off the scale (or not in working days): named in the legend only
                hist.plot([], [], " ", label=text + (", off the scale" if unit == "working_days" else ""))
        stats = summary["cycle_time_working_days"]
        hist.axvline(
            stats["p95"], color="#55A868", linestyle=":", linewidth=1.5, label=f"cycle-time p95 {stats['p95']:.2f}"
        )
        hist.set_xlabel("working days (limits count from acceptance)")
        hist.set_ylabel("cases")
        hist.set_title("Cycle time")
        hist.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncols=2, frameon=False)

        lanes = summary["lanes"]
        names = list(lanes)
        labels = [name if cjk else lanes[name]["section"] for name in names]
        values = [lanes[name]["utilisation"] * 100 for name in names]
        bottleneck = (summary.get("bottleneck") or {}).get("lane")
        colors = ["#C44E52" if name == bottleneck else "#4C72B0" for name in names]
        positions = list(range(len(names)))[::-1]
        bars.barh(positions, values, color=colors)
        bars.set_yticks(positions, [f"{label} ×{lanes[n]['clerks']}" for label, n in zip(labels, names, strict=True)])
        bars.axvline(100, color="#888888", linewidth=1)
        for y, v in zip(positions, values, strict=True):
            bars.text(min(v, 100) + 1, y, f"{v:.1f}%", va="center", fontsize=9)
        bars.set_xlim(0, 115)
        bars.set_xlabel("utilisation (%)")
        bars.set_title("Utilisation per lane (red: bottleneck)")
        fig.savefig(path, dpi=110, metadata={"Software": None})
        plt.close(fig)
