"""Many recipients: ``local`` (in order, in forked worker processes), ``spool`` (how workers hand
back large output), ``job`` (``renderer batch``: JSON Lines in and out, resumable);
``dask/`` runs the same on a Dask cluster (the dask extra).
"""
