"""The digest chart: quarter-to-date attainment per metric, rendered headless to PNG.

matplotlib is imported here only, so it never weighs on the request path.
"""

from __future__ import annotations

import io
from decimal import Decimal


def attainment_png(*, quarter: str, totals: dict[str, Decimal], targets: dict[str, Decimal]) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    metrics = [m for m in ("revenue", "leads", "deals", "adoption") if targets.get(m)]
    figure = Figure(figsize=(6, 3), dpi=100)
    axes = figure.add_subplot()
    if metrics:
        ratios = [float(totals.get(m, 0) / targets[m]) * 100 for m in metrics]
        bars = axes.barh(metrics, ratios, color=["#2eb67d" if r >= 100 else "#ecb22e" if r >= 50 else "#e01e5a" for r in ratios])
        axes.axvline(100, color="#555555", linewidth=1, linestyle="--")
        axes.bar_label(bars, labels=[f"{r:.0f}%" for r in ratios], padding=3)
        axes.set_xlim(0, max(120, max(ratios) * 1.15))
        axes.set_xlabel("% of joint business plan target")
    else:
        axes.text(0.5, 0.5, "No targets set this quarter", ha="center", va="center")
        axes.set_axis_off()
    axes.set_title(f"Quarter-to-date attainment · {quarter}")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
