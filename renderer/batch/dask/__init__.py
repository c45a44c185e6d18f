"""``renderer batch --engine dask`` and ``render_many(backend="dask")``: partitions, a manifest,
the worker side and the client side. ``distributed`` is imported only when a Dask backend is asked for.
"""
