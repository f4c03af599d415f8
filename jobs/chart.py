"""The digest chart: each KPI's quarter-to-date attainment against the pace expected by
now, rendered headless to PNG, large enough to read on a phone.

matplotlib is imported here only, so it never weighs on the request path.
"""

from __future__ import annotations

import io

from storage.digest_figures import MetricFigures

COLOURS = {"target met": "#2eb67d", "on pace": "#2eb67d", "behind": "#e01e5a"}


def attainment_png(*, quarter: str, figures: list[MetricFigures]) -> bytes:
    """One bar per KPI with a target (share of target reached), a tick at its pace (the
    share of the quarter gone; a level such as adoption is judged against its whole target)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    shown = [f for f in figures if f.ratio is not None]
    figure = Figure(figsize=(6, 1.6 + 0.8 * max(len(shown), 1)), dpi=150)
    axes = figure.add_subplot()
    if shown:
        ratios = [f.ratio * 100 for f in shown]
        paces = [(1.0 if f.pace is None else f.pace) * 100 for f in shown]
        rows = list(range(len(shown)))[::-1]  # the first KPI on top
        axes.barh(rows, ratios, height=0.55, color=[COLOURS.get(f.standing or "", "#ecb22e") for f in shown])
        for row, pace in zip(rows, paces):
            axes.plot([pace, pace], [row - 0.4, row + 0.4], color="#1d1c1d", linewidth=2.5)
        for row, ratio, pace, f in zip(rows, ratios, paces, shown):
            # Beyond both the bar and the tick, so neither hides it.
            label = f"{ratio:.0f}%" + ("" if f.pace is None else f" · pace {pace:.0f}%")
            axes.text(max(ratio, pace) + 3, row, label, va="center", fontsize=11)
        axes.set_yticks(rows, [f.metric for f in shown], fontsize=12)
        axes.set_xlim(0, max(140, max(ratios + paces) * 1.45))
        axes.set_xlabel("% of joint business plan target · black tick: expected by now", fontsize=10)
        axes.spines[["top", "right"]].set_visible(False)
    else:
        axes.text(0.5, 0.5, "No targets set this quarter", ha="center", va="center", fontsize=12)
        axes.set_axis_off()
    axes.set_title(f"Attainment vs pace · {quarter}", fontsize=13)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
