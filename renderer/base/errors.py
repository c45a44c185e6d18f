"""One family of errors for everything the engine raises.

Every error inherits :class:`RendererError` and the builtin it resembles, so
callers can catch either. All of them survive pickling, because batch workers
are processes and send errors back to the parent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class RendererError(Exception):
    """Base class of every error raised by the renderer."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: where (a field path) and what."""

    loc: str
    message: str
    type: str = "value_error"

    def __str__(self) -> str:
        return f"{self.loc}: {self.message}" if self.loc else self.message

    def under(self, prefix: str) -> Problem:
        """The same problem, located inside ``prefix`` (``email`` under ``profile`` is ``profile.email``)."""
        return Problem(f"{prefix}.{self.loc}" if self.loc else prefix, self.message, self.type)


class InvalidInput(RendererError, ValueError):
    """A profile, payload or event failed validation; lists every problem."""

    def __init__(self, what: str, problems: list[Problem]) -> None:
        self.what = what
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        super().__init__(f"invalid {what} ({count} {noun}):\n{lines}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.what, self.problems))


class TemplateNotFound(RendererError, LookupError):
    """No template (or block) of that name exists in the content folders."""

    def __init__(self, name: str, kind: str = "template", available: list[str] | None = None) -> None:
        self.name = name
        self.kind = kind
        self.available = list(available or [])
        hint = f"; available: {', '.join(self.available)}" if self.available else ""
        super().__init__(f"unknown {kind} {name!r}{hint}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.name, self.kind, self.available))


class TemplateError(RendererError, ValueError):
    """A template, block or content file is broken; names the file and line."""

    def __init__(self, message: str, filename: str | None = None, lineno: int | None = None) -> None:
        self.message = message
        self.filename = filename
        self.lineno = lineno
        where = ""
        if filename:
            where = f"{filename}:{lineno}: " if lineno else f"{filename}: "
        super().__init__(f"{where}{message}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.message, self.filename, self.lineno))


class CompileError(TemplateError):
    """MJML compilation or CSS inlining of a template failed."""


class RenderAborted(RendererError, RuntimeError):
    """The render was stopped on purpose (like Braze's abort_message): no email is produced."""

    def __init__(self, code: str, reason: str) -> None:
        self.code = code
        self.reason = reason
        super().__init__(f"render aborted ({code}): {reason}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.code, self.reason))


class PersonaFileError(TemplateError):
    """A personas model file is missing, not JSON, or does not validate; names the file."""


class PersonaFitError(RendererError, ValueError):
    """Personas cannot be fitted: too few profiles, a bad k, or scikit-learn missing."""


class ContentMismatch(RendererError, RuntimeError):
    """A worker holds other content or code than the job's; it refuses rather than render a mix.

    ``what`` is ``content`` (templates, blocks, rules, personas) or ``code``
    (the renderer package and the libraries it compiles with).
    """

    def __init__(self, what: str, expected: str, found: str, worker: str) -> None:
        self.what = what
        self.expected = expected
        self.found = found
        self.worker = worker
        super().__init__(f"worker {worker} refuses the job: its {what} hash is {found[:12]}, the job's is "
                         f"{expected[:12]}; install the same {what} on every worker (docs/scaling.md)")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.what, self.expected, self.found, self.worker))


class ClusterError(RendererError, RuntimeError):
    """The Dask cluster cannot be started or reached, or the ``dask`` extra is not installed."""


class BatchStateError(RendererError, FileExistsError):
    """The output or a partial run already exists and the caller did not say what to do."""


class MissingExtra(RendererError, ImportError):
    """A feature needs an optional dependency group that is not installed; says which to install."""
