"""What the renderer's output depends on besides content: its own code and the libraries it renders with."""

from __future__ import annotations

import functools
import hashlib
from importlib import metadata
from pathlib import Path

OUTPUT_LIBRARIES = ("mjml-python", "premailer", "cssutils", "lxml", "jinja2", "babel", "budoux", "html2text",
                    "pydantic", "pyyaml", "xxhash")
"""Libraries whose version can change the rendered bytes (mjml-python is pinned exactly for that reason)."""


@functools.cache
def code_fingerprint() -> str:
    """A digest of the renderer package's sources and the versions of :data:`OUTPUT_LIBRARIES`.

    Read once per process (about 10 ms): every ``.py`` file of the package,
    named relative to it, so the same release installed anywhere gives the
    same digest, and an edited checkout gives another one.
    """
    digest = hashlib.sha256()
    package = Path(__file__).resolve().parents[1]  # renderer/
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0")
        digest.update(path.read_bytes())
    for name in OUTPUT_LIBRARIES:
        try:
            version = metadata.version(name)
        except metadata.PackageNotFoundError:
            version = "absent"
        digest.update(f"{name}=={version}\0".encode())
    return digest.hexdigest()
