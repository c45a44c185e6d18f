"""Where content lives: a content project of the user's own, or the bundled demo brand.

A content project is a folder with ``templates/``, ``blocks/``, ``locales/``,
``fixtures/``, ``assets/`` and ``segments.yaml`` (``renderer init DIR`` makes
one). The default is ``$RENDERER_CONTENT`` when set, else the demo brand
shipped with the package.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path


def bundled_content() -> Path:
    """The demo brand: ``renderer/_content`` inside an installed wheel, else the checkout's root."""
    packaged = Path(str(resources.files("renderer").joinpath("_content")))
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2]


def default_content_root() -> Path:
    """``$RENDERER_CONTENT`` if set, else the bundled demo brand."""
    return Path(os.environ.get("RENDERER_CONTENT") or bundled_content())
