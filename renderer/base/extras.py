"""The optional dependency groups (extras) and the one error for a missing one.

The core install renders emails; each extra adds a feature:

===========  ======================================================
``http``     ``HttpRecommendationSource`` (requests, pybreaker, cachetools)
``preview``  ``renderer preview`` (starlette, uvicorn, watchfiles)
``serve``    ``renderer serve`` (starlette, uvicorn[standard], prometheus-client)
``fixtures`` ``renderer fixtures generate`` (faker)
``ml``       ``renderer segments fit`` and its chart (numpy, scikit-learn, matplotlib)
``dask``     ``--engine dask`` / ``backend="dask"`` (dask.distributed)
``browser``  ``renderer screenshot`` (playwright, with Debian's chromium)
``all``      every one of them
===========  ======================================================
"""

from __future__ import annotations

import contextlib
from typing import Iterator

from renderer.base.errors import MissingExtra


@contextlib.contextmanager
def needs_extra(extra: str, feature: str) -> Iterator[None]:
    """Turn a missing optional library, imported in the block, into one line naming the extra.

    Example::

        with needs_extra("http", "HttpRecommendationSource"):
            import requests
    """
    try:
        yield
    except ModuleNotFoundError as error:
        raise MissingExtra(f"{feature} needs the '{extra}' extra ({error.name} is not installed): "
                           f"pip install 'renderer[{extra}]'") from None
