"""The benchmark's figures as one PNG: latency, throughput, CPU split, memory."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display

import matplotlib.pyplot as plt

SYSTEMS = {"floor": "tab:gray", "services": "tab:blue"}


def draw(report: dict, path: Path) -> None:
    figure, axes = plt.subplots(2, 2, figsize=(13, 9))
    latency(axes[0][0], report)
    throughput(axes[0][1], report)
    cpu_split(axes[1][0], report)
    memory(axes[1][1], report)
    figure.suptitle(report["benchmark"], fontsize=13)
    figure.text(0.5, 0.005, describe(report["machine"]), ha="center", fontsize=8, wrap=True)
    figure.tight_layout(rect=(0, 0.04, 1, 0.96))
    figure.savefig(path, dpi=100)
    plt.close(figure)


def describe(machine: dict) -> str:
    return (
        f"{machine['date']} · {machine['cpu']} · {machine['cores']} cores · "
        f"{machine['ram_gb']} GB RAM · Python {machine['python']} · {machine['rabbitmq']} · "
        f"{machine['database']} · load average at start {machine['load_average_at_start']}"
    )


def runs_of(report: dict, system: str) -> list[dict]:
    runs = report[system]["fixed_rates"] + report[system]["search"]["runs"]
    return sorted(runs, key=lambda r: r["offered_per_second"])


def latency(ax: plt.Axes, report: dict) -> None:
    for system, colour in SYSTEMS.items():
        runs = [r for r in runs_of(report, system) if r["accepted_to_report_ms"]["n"]]
        rates = [r["offered_per_second"] for r in runs]
        for q, style in (("p50", ":"), ("p95", "--"), ("p99", "-")):
            values = [r["accepted_to_report_ms"][q] for r in runs]
            ax.plot(rates, values, style, marker="o", color=colour, label=f"{system} {q}")
    ax.axhline(100, color="tab:red", linewidth=0.8)
    ax.axvline(50, color="tab:red", linewidth=0.8)
    ax.annotate("target: p99 ≤ 100 ms at 50/s", (50, 100), fontsize=8, color="tab:red")
    ax.set_yscale("log")
    ax.set(
        title="accepted → report updated",
        xlabel="offered signals/s",
        ylabel="latency (ms, log)",
    )
    ax.legend(fontsize=7, ncol=2)


def throughput(ax: plt.Axes, report: dict) -> None:
    top = 0.0
    for system, colour in SYSTEMS.items():
        runs = runs_of(report, system)
        rates = [r["offered_per_second"] for r in runs]
        ax.plot(
            rates, [r["achieved_per_second"] for r in runs], marker="o", color=colour, label=system
        )
        best = report[system]["search"]["max_sustained_offered_per_second"]
        ax.axvline(best, color=colour, linestyle="--", linewidth=0.8)
        ceiling = report[system]["cpu_ceiling_per_second"]
        if ceiling:
            ax.axhline(ceiling, color=colour, linestyle=":", linewidth=0.8)
            ax.annotate(
                f"{system}: CPU ceiling {ceiling:.0f}/s",
                (0, ceiling),
                fontsize=8,
                color=colour,
                va="bottom",
            )
        ax.annotate(
            f"{system}: {best:.0f}/s sustained",
            (best, 0),
            fontsize=8,
            color=colour,
            rotation=90,
            va="bottom",
        )
        top = max(top, *rates)
    ax.plot([0, top], [0, top], color="black", linewidth=0.5, label="achieved = offered")
    ax.set(title="throughput", xlabel="offered signals/s", ylabel="achieved signals/s")
    ax.legend(fontsize=8)


SHARED = ["database", "rabbitmq", "load-generator"]  # at the bottom of each bar


def cpu_split(ax: plt.Axes, report: dict) -> None:
    """CPU ms per signal per process, in the run with the highest achieved rate (the
    one the CPU ceiling comes from)."""
    bars: dict[str, dict[str, float]] = {}
    for system in SYSTEMS:
        run = max(runs_of(report, system), key=lambda r: r["achieved_per_second"])
        label = (
            f"{system} @{run['offered_per_second']:.0f}/s offered\n"
            f"{run['database_operations_per_signal']:.0f} db ops/signal"
        )
        bars[label] = {n: c["ms_per_signal"] or 0.0 for n, c in run["cpu"].items()}
    own = sorted({n for split in bars.values() for n in split} - set(SHARED))
    bottoms = dict.fromkeys(bars, 0.0)
    colours = plt.get_cmap("tab20")
    for i, process in enumerate(SHARED + own):
        values = [bars[label].get(process, 0.0) for label in bars]
        ax.bar(list(bars), values, bottom=list(bottoms.values()), label=process, color=colours(i))
        for label, value in zip(bars, values, strict=True):
            bottoms[label] += value
    for label, total in bottoms.items():
        ax.annotate(f"{total:.0f} ms", (label, total), ha="center", va="bottom", fontsize=8)
    ax.set(
        title="CPU per signal, by process (rabbitmq: the whole shared broker)",
        ylabel="CPU ms per signal",
    )
    ax.legend(fontsize=7)


def memory(ax: plt.Axes, report: dict) -> None:
    services = report["services"]
    names = list(services["rss_mb_at_rest"])
    positions = range(len(names))
    ax.bar(
        [p - 0.2 for p in positions],
        [services["rss_mb_at_rest"][n] for n in names],
        width=0.4,
        label="at rest",
    )
    ax.bar(
        [p + 0.2 for p in positions],
        [services["rss_mb_under_load"][n] for n in names],
        width=0.4,
        label="under load (peak)",
    )
    ax.axhline(150, color="tab:red", linewidth=0.8, label="target < 150 MB")
    ax.set_xticks(list(positions), names)
    ax.set(title="RSS per service", ylabel="MB")
    ax.legend(fontsize=8)
