"""Fitting personas offline: K-Means over an audience's features (the ``ml`` extra).

``personas`` fits, ``names`` names the clusters in plain words, ``report`` makes
the marketers' table and chart. Rendering never imports these; it reads the
personas file they write (:mod:`renderer.audience.personas`).
"""

DEFAULT_MAX_K = 8
"""The largest number of personas ``--auto-k`` tries."""
DEFAULT_SILHOUETTE_SAMPLE = 10_000
"""Profiles sampled for the silhouette score that picks k."""
