"""Compiled templates kept on disk between processes, keyed by everything a compile reads.

Compiling a template takes 50-100 ms per language, most of it premailer's
CSS inlining and Jinja's parsing; a batch in seven languages paid about a
second of it before its first email, every run, in every process. The cache
keeps :class:`~renderer.compile.pipeline.Sources` (pickled) and the Jinja
code objects (marshalled, as Jinja's own bytecode cache does) of each
template and language. Loading an entry takes under a millisecond plus the
``show_if`` conditions' compile.

An entry's key is a digest of the content's files (the template, its
blocks, theme, layout, brand and catalog, with their paths), the renderer's
own code and the versions of the libraries it renders with
(``base/versions.py``), and the Python version (code objects are only valid
in the Python that made them). So an edited file, an upgraded library or an
edited checkout is a new key, never a stale email; old entries are removed
once the folder holds more than :data:`MAX_ENTRIES`.

An entry is code that this process will run, as a ``__pycache__`` file is.
The folder is created private (mode 0700) and used only while it is owned by
this user and not writable by anyone else; otherwise the engine compiles
without it, as it does when the folder cannot be written. An entry that
cannot be read is compiled again and rewritten.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import marshal
import os
import pickle
import stat
import sys
import tempfile
from pathlib import Path
from types import CodeType
from typing import Callable

from renderer.base.versions import code_fingerprint
from renderer.compile.pipeline import CompiledTemplate, Sources, load, sources_of

ENVIRONMENT = "RENDERER_COMPILE_CACHE"
"""The environment variable naming the cache folder; ``off`` (or empty) turns the cache off."""
MAX_ENTRIES = 512
"""Entries kept; past this, the oldest written are removed (each is 100-300 KB)."""
_FORMAT = b"renderer-compiled-1\n"
_OFF = {"", "0", "off", "false", "no", "none"}


def default_folder() -> Path | None:
    """``$RENDERER_COMPILE_CACHE`` (``None`` when set to ``off``), else ``$XDG_CACHE_HOME/renderer/compiled``
    (``~/.cache/renderer/compiled``)."""
    given = os.environ.get(ENVIRONMENT)
    if given is not None:
        return None if given.strip().lower() in _OFF else Path(given).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "renderer" / "compiled"


def entry_key(fingerprint: str, name: str, language: str) -> str:
    """The entry of template ``name`` in ``language`` whose content files digest to ``fingerprint``."""
    digest = hashlib.sha256()
    for part in (fingerprint, name, language, code_fingerprint(), sys.version, importlib.util.MAGIC_NUMBER.hex()):
        digest.update(part.encode() + b"\0")
    return digest.hexdigest()


class CompileCache:
    """One folder of compiled templates (see the module's docstring)."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self._usable: bool | None = None

    def __repr__(self) -> str:
        return f"CompileCache({str(self.folder)!r})"

    def usable(self) -> bool:
        """Whether the folder exists (created if need be), is this user's and no one else can write it."""
        if self._usable is None:
            self._usable = _private_folder(self.folder)
        return self._usable

    def compiled(self, fingerprint: str, name: str, language: str,
                 build: Callable[[], CompiledTemplate]) -> CompiledTemplate:
        """The kept template of ``name`` in ``language`` (arguments of :func:`entry_key`), else ``build()``'s, kept."""
        key = entry_key(fingerprint, name, language)
        kept = self.get(key)
        if kept is None:
            kept = build()
            self.put(key, kept)
        return kept

    def get(self, key: str) -> CompiledTemplate | None:
        """The compiled template of ``key`` (``entry_key``), or ``None``: no such entry, or it cannot be read."""
        if not self.usable():
            return None
        try:
            data = (self.folder / key).read_bytes()
        except OSError:
            return None
        try:
            if not data.startswith(_FORMAT):
                return None
            view = memoryview(data)[len(_FORMAT):]
            length = int.from_bytes(view[:8], "big")
            sources = pickle.loads(view[8:8 + length])  # noqa: S301 - a private folder this process writes
            codes = marshal.loads(view[8 + length:])
            if type(sources) is not Sources or not isinstance(codes, tuple) \
                    or not all(isinstance(code, CodeType) for code in codes):
                return None
            return load(sources, codes)
        except Exception:  # a torn or foreign file: compiled again, and rewritten
            return None

    def put(self, key: str, compiled: CompiledTemplate) -> None:
        """Keep ``compiled`` under ``key``: written whole or not at all, never failing the compile."""
        if not self.usable():
            return
        sources = pickle.dumps(sources_of(compiled), protocol=pickle.HIGHEST_PROTOCOL)
        data = b"".join((_FORMAT, len(sources).to_bytes(8, "big"), sources, marshal.dumps(compiled.codes)))
        try:
            handle, temporary = tempfile.mkstemp(dir=self.folder, prefix=".tmp-")
        except OSError:
            return
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(data)
            os.replace(temporary, self.folder / key)
        except OSError:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            return
        self._prune()

    def _prune(self) -> None:
        try:
            entries = [entry for entry in os.scandir(self.folder) if entry.is_file() and not entry.name.startswith(".")]
        except OSError:
            return
        if len(entries) <= MAX_ENTRIES:
            return
        entries.sort(key=lambda entry: entry.stat().st_mtime)
        for entry in entries[:len(entries) - MAX_ENTRIES]:
            with contextlib.suppress(OSError):
                os.unlink(entry.path)


def _private_folder(folder: Path) -> bool:
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        status = folder.stat()
    except OSError:
        return False
    if not stat.S_ISDIR(status.st_mode) or status.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return False
    return not hasattr(os, "getuid") or status.st_uid == os.getuid()
