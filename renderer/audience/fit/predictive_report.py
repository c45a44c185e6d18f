"""The marketers' view of a predictive model: summary lines and a PNG chart.

Both read only the file's ``validation`` section (the held-out figures), so
they can be redrawn from any model file. The chart needs matplotlib (the
``ml`` extra) and draws off-screen: the calibration curve, the churn lift by
decile and the share of next year's spend by predicted-value decile.
"""

from __future__ import annotations

from pathlib import Path

from renderer.audience.predictive import PredictiveFile
from renderer.base.extras import needs_extra


def summary_lines(spec: PredictiveFile) -> list[str]:
    """The held-out figures in a few plain sentences."""
    churn, value, fit = spec.validation["churn"], spec.validation["value"], spec.fit
    top = churn["lift"][0] if churn["lift"] else {"mean": 0.0, "lift": 0.0}
    value_top = value["lift"][0]["share"] if value["lift"] else 0.0
    naive_top = value["lift_baseline"][0]["share"] if value["lift_baseline"] else 0.0
    return [
        f"{fit.profiles:,} profiles; {fit.churn_examples:,} churn and {fit.value_examples:,} value examples "
        f"(now = {fit.now}, seed {fit.seed}); figures on {churn['held_out']:,} and {value['held_out']:,} "
        "held-out customers",
        f"churn (no order in {spec.churn.horizon_days} days, base rate {churn['base_rate']:.0%}): "
        f"ROC AUC {churn['roc_auc']}, hand-written churn_risk {churn['roc_auc_handwritten']}; "
        f"Brier {churn['brier']} (base rate alone {churn['brier_base_rate']}); "
        f"top decile churns at {top['mean']:.0%} ({top['lift']:.1f}x the base rate)",
        f"value (spend in {spec.value.horizon_days} days, USD): MAE {value['mae']:,.2f} vs "
        f"{value['mae_baseline']:,.2f} for last year's spend; top decile holds {value_top:.0%} of the "
        f"spend ({naive_top:.0%} when ranked by last year's spend)",
    ]


def write_chart(spec: PredictiveFile, path: str | Path) -> Path:
    """Draw the calibration curve and the lift charts into a PNG.

    Raises:
        MissingExtra: matplotlib is not installed.
    """
    with needs_extra("ml", "the predictive chart"):
        import matplotlib
        matplotlib.use("Agg")  # no display: the chart is a file
        import matplotlib.pyplot as plt
    churn, value = spec.validation["churn"], spec.validation["value"]
    figure, (calibration, lift, spend) = plt.subplots(1, 3, figsize=(15, 4.6))
    predicted = [row["predicted"] for row in churn["calibration"]]
    observed = [row["observed"] for row in churn["calibration"]]
    calibration.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfectly calibrated")
    calibration.plot(predicted, observed, marker="o", label="model (held-out)")
    calibration.set(title="Calibration: predicted vs observed churn", xlabel="predicted probability",
                    ylabel="observed share that did not order", xlim=(0, 1), ylim=(0, 1))
    calibration.legend(loc="upper left", fontsize=8)
    deciles = [str(row["decile"]) for row in churn["lift"]]
    lift.bar(deciles, [row["lift"] for row in churn["lift"]], color="tab:red")
    lift.axhline(1.0, color="grey", linestyle="--")
    lift.set(title="Churn lift by predicted decile (10 = riskiest)", xlabel="decile",
             ylabel="churn rate / base rate")
    labels = [str(row["decile"]) for row in value["lift"]]
    width = 0.4
    positions = range(len(labels))
    spend.bar([p - width / 2 for p in positions], [row["share"] * 100 for row in value["lift"]], width,
              label="ranked by predicted value", color="tab:green")
    spend.bar([p + width / 2 for p in positions], [row["share"] * 100 for row in value["lift_baseline"]], width,
              label="ranked by last year's spend", color="tab:grey")
    spend.set_xticks(list(positions), labels)
    spend.set(title=f"Share of the next {spec.value.horizon_days} days' spend by decile",
              xlabel="decile (10 = highest)", ylabel="% of the spend")
    spend.legend(fontsize=8)
    for ax in (calibration, lift, spend):
        ax.spines[["top", "right"]].set_visible(False)
    figure.suptitle(f"Predictive model, held-out customers: ROC AUC {churn['roc_auc']}, "
                    f"value MAE {value['mae']:,.0f} vs {value['mae_baseline']:,.0f} (naive)", fontsize=11)
    figure.tight_layout()
    path = Path(path)
    figure.savefig(path, dpi=100, metadata={"Software": None})
    plt.close(figure)
    return path
