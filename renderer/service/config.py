"""What a service worker process needs to know, and the API keys it accepts.

A :class:`ServiceConfig` travels to worker processes (``--workers N``
starts them with ``spawn``) as JSON in an environment variable; the keys
never do: each worker reads them itself from ``RENDERER_API_KEYS`` or the
keys file, so no key is ever part of a command line or a log line.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from renderer.base.errors import ConfigError

CONFIG_ENV = "RENDERER_SERVE_CONFIG"
KEYS_ENV = "RENDERER_API_KEYS"
SUPERVISOR_ENV = "RENDERER_SERVE_SUPERVISOR"
"""The process id of the ``--workers`` supervisor, set for its workers: a reload is asked of it."""

MAX_BODY_BYTES = 1 << 20
MAX_BATCH_BYTES = 1 << 30
TIME_BUDGET_SECONDS = 10.0


@dataclass(frozen=True)
class ServiceConfig:
    """The service's settings, the same in every worker process.

    Args:
        content: the content project folder (``None``: ``$RENDERER_CONTENT``, else the bundled brand).
        personas: a personas model file, as ``Engine(personas=...)``.
        api_keys_file: a file of API keys, one a line (``#`` comments and blank lines ignored).
        insecure_no_auth: serve without any key check (refused unless asked for by name).
        max_body_bytes: the largest body of a single render or trigger request (413 above it).
        max_batch_bytes: the largest batch request body (each line is also capped at 1 MiB).
        time_budget: seconds a single render or trigger may take before it is answered 503.
        cors_origins: origins allowed to call from a browser (none: CORS is off).
        recommendations_url: the server's recommendation source (``HttpRecommendationSource``
            URL template); never taken from a request.
    """

    content: str | None = None
    personas: str | None = None
    api_keys_file: str | None = None
    insecure_no_auth: bool = False
    max_body_bytes: int = MAX_BODY_BYTES
    max_batch_bytes: int = MAX_BATCH_BYTES
    time_budget: float = TIME_BUDGET_SECONDS
    cors_origins: tuple[str, ...] = field(default_factory=tuple)
    recommendations_url: str | None = None

    def __post_init__(self) -> None:
        if self.max_body_bytes < 1 or self.max_batch_bytes < 1:
            raise ConfigError("max_body_bytes and max_batch_bytes must be at least 1")
        if not self.time_budget > 0:
            raise ConfigError("time_budget must be more than 0 seconds")
        object.__setattr__(self, "cors_origins", tuple(self.cors_origins))

    def to_env(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_env(cls) -> ServiceConfig:
        """The config the supervisor put in ``$RENDERER_SERVE_CONFIG`` (defaults when unset)."""
        text = os.environ.get(CONFIG_ENV)
        return cls(**json.loads(text)) if text else cls()


class ApiKeys:
    """The accepted bearer keys; several, so that one can be rotated while the other still works.

    Only SHA-256 digests are kept, and a presented key is compared with
    every one of them with ``hmac.compare_digest``: the time taken says
    nothing about how much of a key was right, nor which key matched.
    """

    def __init__(self, keys: list[str]) -> None:
        self._digests = [hashlib.sha256(key.encode()).digest() for key in keys]

    def __len__(self) -> int:
        return len(self._digests)

    def __repr__(self) -> str:  # never the keys themselves
        return f"ApiKeys({len(self)} keys)"

    def accepts(self, presented: str) -> bool:
        digest = hashlib.sha256(presented.encode("utf-8", "surrogateescape")).digest()
        found = False
        for known in self._digests:
            found |= hmac.compare_digest(digest, known)
        return found


def load_keys(config: ServiceConfig) -> ApiKeys:
    """The keys of ``$RENDERER_API_KEYS`` (comma-separated) and of the keys file, together.

    Raises:
        ConfigError: the keys file cannot be read, or no key is configured and
            ``insecure_no_auth`` is not set.
    """
    keys = [key.strip() for key in os.environ.get(KEYS_ENV, "").split(",") if key.strip()]
    if config.api_keys_file:
        path = Path(config.api_keys_file)
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as error:
            raise ConfigError(f"cannot read the API keys file {str(path)!r}: "
                              f"{getattr(error, 'strerror', None) or error}") from None
        keys += [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
    if not keys and not config.insecure_no_auth:
        raise ConfigError(f"no API key configured: set {KEYS_ENV}=KEY[,KEY2] or pass --api-keys-file FILE "
                          "(or --insecure-no-auth to serve without keys, on a trusted network only)")
    if any(len(key) < 16 for key in keys):
        raise ConfigError("an API key is shorter than 16 characters: use long random keys "
                          "(python -c 'import secrets; print(secrets.token_urlsafe(32))')")
    return ApiKeys(keys)
