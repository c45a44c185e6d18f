"""The marketers' view of a personas model: a table and a PNG chart.

Both read only the model file's content (sizes, shares and centres in original
units), so they can be redrawn after a persona is renamed. The chart needs
matplotlib (the ``ml`` extra) and draws off-screen.
"""

from __future__ import annotations

from pathlib import Path

from renderer.audience.personas import FEATURES, SEGMENT_PREFIX, PersonaFile, slug
from renderer.base.extras import needs_extra


def format_value(feature: str, value: float) -> str:
    """A centre value the way a marketer reads it: "$1,452", "7.2" orders, "12" days."""
    unit = FEATURES[feature].unit if feature in FEATURES else ""
    if unit == "USD":
        return f"${value:,.0f}"
    if unit == "orders":
        return f"{value:.1f}"
    return f"{value:,.0f}"


def report_columns(spec: PersonaFile) -> list[str]:
    """Column headings of :func:`report_rows`."""
    return ["persona", "segment", "profiles", "share"] + [FEATURES[f.name].heading for f in spec.features]


def report_rows(spec: PersonaFile) -> list[list[str]]:
    """One row per persona: name, segment, size, share, then the centre in original units."""
    return [[p.name, SEGMENT_PREFIX + slug(p.name), f"{p.size:,}", f"{p.share:.1%}"]
            + [format_value(f.name, p.centre.get(f.name, float("nan"))) for f in spec.features]
            for p in spec.personas]


def summary(spec: PersonaFile) -> str:
    """One line: how many profiles, how many personas, and how well they separate."""
    fit = spec.fit
    quality = f"silhouette {fit.silhouette:.2f}" if fit.silhouette is not None else "silhouette n/a"
    if fit.silhouette_sample and fit.silhouette_sample < fit.profiles:
        quality += f" (on a sample of {fit.silhouette_sample:,})"
    tried = ""
    if len(fit.silhouette_by_k) > 1:
        tried = "; k tried: " + ", ".join(f"{k}: {s:.2f}" for k, s in fit.silhouette_by_k.items())
    return f"{fit.profiles:,} profiles, {fit.k} personas, {quality}{tried} (now = {fit.now}, seed {fit.seed})"


def write_chart(spec: PersonaFile, path: str | Path) -> Path:
    """Draw each persona's share and centre, one small bar chart per measure, into a PNG.

    Raises:
        PersonaFitError: matplotlib is not installed.
    """
    with needs_extra("ml", "the personas chart"):
        import matplotlib
        matplotlib.use("Agg")  # no display: the chart is a file
        import matplotlib.pyplot as plt
    names = [p.name for p in spec.personas][::-1]  # largest persona on top
    colours = [plt.get_cmap("tab10")(i % 10) for i in range(len(names))][::-1]
    panels = [("share of audience (%)", [p.share * 100 for p in spec.personas][::-1], "{:.1f}%")]
    for feature in spec.features:
        known = FEATURES[feature.name]
        values = [p.centre.get(feature.name, 0.0) for p in spec.personas][::-1]
        label = "${:,.0f}" if known.unit == "USD" else "{:,.1f}" if known.unit == "orders" else "{:,.0f}"
        title = known.label if known.unit in ("days", "orders") else f"{known.label} ({known.unit})"
        panels.append((title, values, label))
    columns = 4
    rows = -(-(len(panels)) // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(4.2 * columns + 2, (1.2 + 0.42 * len(names)) * rows),
                                sharey=True, squeeze=False)
    for index, ax in enumerate(axes.flat):
        if index >= len(panels):
            ax.axis("off")
            continue
        title, values, label = panels[index]
        bars = ax.barh(names, values, color=colours)
        ax.set_title(title, fontsize=10)
        ax.bar_label(bars, labels=[label.format(v) for v in values], padding=3, fontsize=8)
        ax.margins(x=0.3)
        ax.tick_params(axis="x", labelsize=7)
        ax.spines[["top", "right"]].set_visible(False)
    figure.suptitle("Personas: who they are and how many\n" + summary(spec), fontsize=11)
    figure.tight_layout()
    path = Path(path)
    figure.savefig(path, dpi=110, metadata={"Software": None})
    plt.close(figure)
    return path
