"""Fit personas: K-Means over derived features of a whole audience.

Runs once, offline, and is the only part that needs scikit-learn
(``pip install 'renderer[ml]'``). Steps, in order:

1. :func:`read_features` streams JSON Lines profiles into a small matrix of raw
   features (one row of floats per profile; invalid lines are counted, not fatal);
2. :func:`fit_personas` transforms and standardizes the columns, fits KMeans
   (fixed ``random_state``, several inits) for one ``k`` or, with ``k=None``, for
   each ``k`` in ``2..max_k``, keeping the best silhouette (computed on a fixed
   sample for big audiences), orders the personas by size and names them;
3. :func:`~renderer.audience.personas.dump_personas` writes the plain JSON model.

The same profiles, ``now``, seed and options give a byte-identical file.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Iterable

from renderer.base.extras import needs_extra

with needs_extra("ml", "fitting personas"):
    import numpy as np

from renderer.audience.features import FeatureConfig, derive
from renderer.audience.fit import DEFAULT_MAX_K, DEFAULT_SILHOUETTE_SAMPLE
from renderer.audience.fit.names import name_personas
from renderer.audience.personas import (
    DEFAULT_FEATURES,
    FEATURES,
    FORMAT,
    VERSION,
    FeatureSpec,
    FitInfo,
    PersonaFile,
    PersonaSpec,
    Scaler,
)
from renderer.base.errors import PersonaFitError
from renderer.base.jsonl import InvalidLines, LineError, read_profiles


def _log1p(values: np.ndarray) -> np.ndarray:
    # The features are never negative; the clamp keeps a stray one from becoming NaN.
    return np.log1p(np.maximum(values, 0.0))


# The column transforms a personas file may name, and their inverses (for the centroids in original units).
TRANSFORMS: dict[str, Callable[[np.ndarray], np.ndarray]] = {"identity": lambda x: x, "log1p": _log1p}
INVERSE: dict[str, Callable[[np.ndarray], np.ndarray]] = {"identity": lambda x: x, "log1p": np.expm1}

DEFAULT_N_INIT = 5


@dataclass
class FeatureTable:
    """Raw feature rows of an audience (original units), with what could not be read."""

    features: tuple[str, ...]
    raw: np.ndarray
    invalid_count: int = 0
    invalid: list[tuple[int, str]] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return int(self.raw.shape[0])


@dataclass(frozen=True)
class FitResult:
    """The model file's content, and each input row's persona index."""

    spec: PersonaFile
    labels: np.ndarray


def read_features(lines: Iterable[str | LineError], now: datetime, *, config: FeatureConfig = FeatureConfig(),
                  features: tuple[str, ...] = DEFAULT_FEATURES,
                  on_progress: Callable[[int], None] | None = None) -> FeatureTable:
    """Derive the clustering features of every profile line.

    Memory is one row of floats per valid profile; nothing else is kept.

    Args:
        lines: JSON Lines, one profile per line (blank lines are skipped): ``split_lines`` of a file.
        now: the clock for derived features.
        config: windows and currency rates (the rules file's ``features:``).
        features: names from :data:`~renderer.audience.personas.FEATURES`.
        on_progress: called with the number of lines read, every 1,000 lines.
    """
    readers = [FEATURES[name].read for name in features]
    rates = dict(config.rates)
    values = array("d")
    invalid = InvalidLines()
    for _, profile in read_profiles(lines, invalid, on_progress=on_progress):
        derived = derive(profile, now, config)
        values.extend(read(derived, rates) for read in readers)
    raw = np.frombuffer(values, dtype=np.float64).reshape(-1, len(features)).copy()
    return FeatureTable(tuple(features), raw, invalid.count, invalid.listed)


SILHOUETTE_WORKING_MB = 64
"""Memory for the silhouette's distance blocks; scikit-learn's default (1 GB) would dominate the fit."""


def _sklearn() -> tuple[Any, Any, Any, Any]:
    with needs_extra("ml", "fitting personas"):
        from sklearn import config_context
        from sklearn.cluster import KMeans
        from sklearn.metrics import silhouette_score
        from threadpoolctl import threadpool_limits
    return KMeans, silhouette_score, threadpool_limits, config_context


def _sig(value: float, digits: int = 10) -> float:
    # Rounded so that the last bits of float arithmetic never reach the file.
    return float(f"{value:.{digits}g}")


def fit_personas(table: FeatureTable, *, now: datetime, k: int | None = None, seed: int = 0,
                 config: FeatureConfig = FeatureConfig(), max_k: int = DEFAULT_MAX_K,
                 silhouette_sample: int = DEFAULT_SILHOUETTE_SAMPLE,
                 n_init: int = DEFAULT_N_INIT) -> FitResult:
    """Cluster the table with KMeans and describe the clusters as named personas.

    Args:
        table: from :func:`read_features`.
        now: the clock the features were derived at (recorded in the file).
        k: the number of personas; ``None`` picks the best silhouette in ``2..max_k``.
        seed: KMeans' ``random_state`` and the silhouette sample's seed.
        config: the feature config the table was read with (window and rates are recorded).
        silhouette_sample: profiles sampled for the silhouette (it is quadratic in size).
        n_init: KMeans initialisations per ``k`` (at least 1; the best inertia is kept).

    Raises:
        PersonaFitError: too few (distinct) profiles for ``k``, bad options, or no scikit-learn.
    """
    KMeans, silhouette_score, threadpool_limits, config_context = _sklearn()
    if n_init < 1 or silhouette_sample < 2 or max_k < 2:
        raise PersonaFitError("n_init must be >= 1, silhouette_sample >= 2 and max_k >= 2")
    if k is not None and k < 2:
        raise PersonaFitError(f"k must be at least 2, got {k}")
    columns = [TRANSFORMS[FEATURES[name].transform](table.raw[:, i]) for i, name in enumerate(table.features)]
    matrix = np.stack(columns, axis=1) if table.rows else np.empty((0, len(table.features)))
    distinct = len(np.unique(matrix, axis=0)) if table.rows else 0
    wanted = k or 2
    if distinct < max(wanted, 2) or table.rows <= wanted:
        raise PersonaFitError(f"{table.rows} profiles with {distinct} distinct feature rows "
                              f"cannot form {wanted} personas")
    mean = matrix.mean(axis=0)
    scale = matrix.std(axis=0)
    scale[scale == 0] = 1.0  # a constant feature carries no information; leave it unscaled
    # Rounded before use, so that the file's scaler is exactly what fitted the centroids.
    mean = np.array([_sig(v) for v in mean])
    scale = np.array([_sig(v) for v in scale])
    scaled = (matrix - mean) / scale
    sample = min(silhouette_sample, table.rows)
    candidates = [k] if k is not None else list(range(2, min(max_k, distinct - 1, table.rows - 1) + 1))
    scores: dict[int, float | None] = {}
    fits: dict[int, Any] = {}
    # One thread: KMeans and BLAS sum per-thread partial results in scheduling
    # order, and the same seed must give the same file.
    with threadpool_limits(limits=1), config_context(working_memory=SILHOUETTE_WORKING_MB):
        for candidate in candidates:
            model = KMeans(n_clusters=candidate, n_init=n_init, random_state=seed, algorithm="lloyd")
            labels = model.fit_predict(scaled)
            fits[candidate] = model
            if len(set(labels.tolist())) < 2:
                scores[candidate] = None
                continue
            scores[candidate] = round(float(silhouette_score(
                scaled, labels, sample_size=sample if sample < table.rows else None, random_state=seed)), 4)
    if k is None:
        best = max(candidates, key=lambda c: (scores[c] if scores[c] is not None else -2.0, -c))
    else:
        best = k
    model = fits[best]
    centroids = np.round(model.cluster_centers_, 6)
    # Nearest rounded centroid, exactly as the numpy assignment at render time.
    distances = ((scaled[:, None, :] - centroids[None, :, :]) ** 2).sum(axis=2)
    labels = distances.argmin(axis=1)
    sizes = np.bincount(labels, minlength=best)
    order = sorted(range(best), key=lambda c: (-int(sizes[c]), centroids[c].tolist()))
    remap = np.empty(best, dtype=np.int64)
    remap[order] = np.arange(best)
    labels = remap[labels]
    centroids, sizes = centroids[order], sizes[order]
    originals = centroids * scale + mean
    # "+ 0.0" turns the -0.0 that expm1 gives for "no orders" into a plain 0.0.
    centres = [{name: round(float(INVERSE[FEATURES[name].transform](np.array(originals[c, i]))), 2) + 0.0
                for i, name in enumerate(table.features)} for c in range(best)]
    names = name_personas(centres, centroids.tolist(), list(table.features))
    spec = PersonaFile(
        format=FORMAT,
        version=VERSION,
        features=[FeatureSpec(name=name, transform=FEATURES[name].transform, unit=FEATURES[name].unit)
                  for name in table.features],
        scaler=Scaler(mean=mean.tolist(), scale=scale.tolist()),
        personas=[PersonaSpec(name=names[c], size=int(sizes[c]), share=round(int(sizes[c]) / table.rows, 4),
                              centroid=centroids[c].tolist(), centre=centres[c]) for c in range(best)],
        fit=FitInfo(k=best, seed=seed, now=now.isoformat(), profiles=table.rows,
                    invalid_lines=table.invalid_count, window_days=config.window_days,
                    rates=dict(sorted(config.rates.items())), silhouette=scores[best],
                    silhouette_sample=sample,
                    silhouette_by_k={str(c): s for c, s in scores.items() if s is not None}),
    )
    return FitResult(spec, labels)
