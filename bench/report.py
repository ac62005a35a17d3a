"""The benchmark's report (bench/run.py): the table of figures, the ratios between the servers of one run,
and the chart."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

__all__ = ["BASELINE", "chart", "print_table"]

#: The name of the hubbub run from another checkout (--baseline).
BASELINE = "hubbub-base"


class Metric(Protocol):
    """What the report needs of a plan (run.Plan)."""

    label: str
    metric: str
    higher_is_better: bool


def print_table(table: dict[str, dict[str, float | None]], all_plans: Sequence[Metric]) -> None:
    metric = {p.label: p for p in all_plans}
    names = sorted({name for row in table.values() for name in row})
    print()
    print(f"{'scenario':<24} " + " ".join(f"{n:>13}" for n in names))
    for label, row in table.items():
        cells = []
        for name in names:
            value = row.get(name)
            cells.append(f"{'-' if value is None else f'{value:,.1f}':>13}")
        print(f"{label:<24} " + " ".join(cells) + f"   ({metric[label].metric})")
    print()
    print("ratios: hubbub against each other server in the same run (>1 means hubbub is better)")
    for label, row in table.items():
        plan = metric[label]
        base = row.get("hubbub-irc") or row.get("hubbub-plain")
        if base is None:
            continue
        parts = []
        for name, value in row.items():
            if name.startswith("hubbub") or not value:
                continue
            ratio = base / value if plan.higher_is_better else value / base
            parts.append(f"{name} {ratio:.2f}x")
        if parts:
            print(f"  {label:<24} " + ", ".join(parts))
    against_base = []
    for label, row in table.items():
        now, before = row.get("hubbub-irc"), row.get(BASELINE)
        if now and before:
            ratio = now / before if metric[label].higher_is_better else before / now
            against_base.append(f"  {label:<24} {ratio:.2f}x")
    if against_base:
        print(f"hubbub-irc against {BASELINE} in the same run (>1 means this checkout is better)")
        print("\n".join(against_base))
    framing = []
    for label, row in table.items():
        irc, web = row.get("hubbub-irc"), row.get("hubbub-ws")
        if irc and web:
            framing.append(f"  {label:<24} {web / irc:.2f}x   ({metric[label].metric})")
    if framing:
        print("hubbub-ws / hubbub-irc in the same run (IRC over WebSocket against IRC over TCP, as is):")
        print("\n".join(framing))
    costs = []
    for label, row in table.items():
        on, off = row.get("hubbub-irc"), row.get("hubbub-irc-nohist")
        if on and off:
            ratio = on / off if metric[label].higher_is_better else off / on
            costs.append(f"  {label:<24} history on / off: {ratio:.2f}x")
    if costs:
        print("what recording history (SQLite) costs hubbub-irc (1.00x: nothing)")
        print("\n".join(costs))


def chart(table: dict[str, dict[str, float | None]], path: Path) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no chart (pip install matplotlib)")
        return
    labels = list(table)
    fig, axes = plt.subplots(len(labels), 1, figsize=(9, 2.2 * len(labels)), squeeze=False)
    for ax, label in zip(axes[:, 0], labels, strict=True):
        row = {k: v for k, v in table[label].items() if v is not None}
        colours = ["tab:red" if k.startswith("hubbub") else "tab:gray" for k in row]
        ax.barh(list(row), list(row.values()), color=colours)
        ax.set_title(label, fontsize=9, loc="left")
        ax.tick_params(labelsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
