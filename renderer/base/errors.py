"""One family of errors for everything the engine raises.

Every error inherits :class:`RendererError` and the builtin it resembles, so
callers can catch either. Each class has a stable ``code`` (for logs, HTTP
answers and batch records) and the ``exit_code`` the ``renderer`` command ends
with. All of them survive pickling, because batch workers are processes and
send errors back to the parent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class RendererError(Exception):
    """Base class of every error raised by the renderer."""

    code = "renderer_error"
    exit_code = 2
    """What the ``renderer`` command exits with (1 means: it ran, and some recipients failed)."""


class ConfigError(RendererError, ValueError):
    """A keyword argument given to the library is out of range or contradicts another."""

    code = "config"


class UsageError(RendererError, ValueError):
    """The ``renderer`` command was called with options that do not go together."""

    code = "usage"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: where (a field path) and what."""

    loc: str
    message: str
    type: str = "value_error"
    input: Any = None
    """The offending value when it is a scalar (strings cut to 200 characters); ``None`` otherwise."""

    def __str__(self) -> str:
        return f"{self.loc}: {self.message}" if self.loc else self.message

    @property
    def path(self) -> tuple[str | int, ...]:
        """``loc`` as pydantic gives it: keys and list indexes (``("profile", "orders", 0, "total")``)."""
        return tuple(int(part) if part.isdigit() else part for part in self.loc.split(".")) if self.loc else ()

    def details(self) -> dict[str, Any]:
        """This problem in the shape of pydantic's ``ErrorDetails``: type, loc, msg, input."""
        return {"type": self.type, "loc": self.path, "msg": self.message, "input": self.input}

    def under(self, prefix: str) -> Problem:
        """The same problem, located inside ``prefix`` (``email`` under ``profile`` is ``profile.email``)."""
        return Problem(f"{prefix}.{self.loc}" if self.loc else prefix, self.message, self.type, self.input)


class InvalidInput(RendererError, ValueError):
    """A profile, payload or event failed validation; lists every problem.

    ``problems`` are :class:`Problem` objects; :meth:`errors` gives them as
    pydantic's ``ValidationError.errors()`` does, for code that handles both.
    """

    code = "invalid_input"

    def __init__(self, what: str, problems: list[Problem]) -> None:
        self.what = what
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        super().__init__(f"invalid {what} ({count} {noun}):\n{lines}")

    def errors(self) -> list[dict[str, Any]]:
        """Every problem as a dict: ``type``, ``loc`` (a tuple), ``msg`` and ``input``."""
        return [problem.details() for problem in self.problems]

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.what, self.problems))


class TemplateNotFound(RendererError, LookupError):
    """No template (or block) of that name exists in the content folders."""

    code = "not_found"

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

    code = "template_error"

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


class UnknownBlock(TemplateNotFound, TemplateError):
    """A template's block list names a block that does not exist.

    Both a :class:`TemplateNotFound` (no such block) and a
    :class:`TemplateError` (the template file is broken): it names the
    template's file and line, the closest block name and the blocks there are.
    """

    def __init__(self, name: str, available: list[str], filename: str | None = None,
                 lineno: int | None = None, suggestion: str | None = None) -> None:
        self.name, self.kind, self.available, self.suggestion = name, "block", list(available), suggestion
        hint = f" (did you mean {suggestion!r}?)" if suggestion else ""
        blocks = f"; blocks: {', '.join(self.available)}" if self.available else "; there are no blocks"
        TemplateError.__init__(self, f"unknown block {name!r}{hint}{blocks}", filename, lineno)

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.name, self.available, self.filename, self.lineno, self.suggestion))


class CompileError(TemplateError):
    """MJML compilation or CSS inlining of a template failed."""

    code = "compile_error"


class RenderAborted(RendererError, RuntimeError):
    """The render was stopped on purpose (like Braze's abort_message): no email is produced.

    ``code`` says why (``no_consent``, ``recommendations_required``); ``message`` says it in
    words: the same two fields as a trigger's ``Skip`` and a batch's ``Skipped``.
    """

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.message = message
        super().__init__(f"render aborted ({code}): {message}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.code, self.message))


class RequiredTokenEmpty(RenderAborted):
    """A token the template ``requires:`` is empty for this recipient: no email (code ``required_token_empty``).

    ``token`` is the token (``CartItems``), ``template`` the template's name and
    ``on_missing`` the requirement's policy: ``skip`` (batches report a skipped
    record, triggers a skip) or ``abort`` (batches count the recipient as failed).
    """

    def __init__(self, token: str, template: str, on_missing: str = "skip") -> None:
        self.token = token
        self.template = template
        self.on_missing = on_missing
        super().__init__("required_token_empty",
                         f"{token} is empty, and template {template!r} requires it (its requires: list)")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.token, self.template, self.on_missing))


class PersonaFileError(TemplateError):
    """A personas model file is missing, not JSON, or does not validate; names the file."""

    code = "personas_file"


class PersonaFitError(RendererError, ValueError):
    """Personas cannot be fitted: too few profiles, a bad k, or scikit-learn missing."""

    code = "personas_fit"


class ModelFileError(TemplateError):
    """A predictive or recommendation model file is missing, not JSON, or does not validate; names the file."""

    code = "model_file"


class ModelFitError(RendererError, ValueError):
    """A predictive or recommendation model cannot be fitted: too few examples, or scikit-learn missing."""

    code = "model_fit"


class ContentMismatch(RendererError, RuntimeError):
    """A worker holds other content or code than the job's; it refuses rather than render a mix.

    ``what`` is ``content`` (templates, blocks, rules, personas) or ``code``
    (the renderer package and the libraries it compiles with).
    """

    code = "content_mismatch"

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
    """The Dask cluster cannot be started or reached."""

    code = "cluster"


class BatchStateError(RendererError, FileExistsError):
    """The output or a partial run already exists and the caller did not say what to do."""

    code = "output_exists"


class MissingExtra(RendererError, ImportError):
    """A feature needs an optional dependency group that is not installed; says which to install."""

    code = "missing_extra"
