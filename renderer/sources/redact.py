"""Keep recommendation API secrets out of logs: logged URLs lose their query and userinfo.

urllib3 logs the path and query of every request at DEBUG level, and the
whole URL when it retries; an API key passed as ``?key=...`` (or as
``https://user:password@host``) would land in whatever a service collects
from its logs. :func:`install` adds a filter to urllib3's loggers that
rewrites the string arguments of their records before any handler sees them.
Secrets sent as headers are never logged by urllib3 or requests.
"""

from __future__ import annotations

import logging
import re

URLLIB3_LOGGERS = ("urllib3.connectionpool", "urllib3.util.retry", "urllib3.poolmanager",
                   "urllib3.connection", "urllib3.response")

_QUERY = re.compile(r"\?[^\s'\"]+")
_USERINFO = re.compile(r"//[^/@\s'\"]+@")


def redact(text: str) -> str:
    """``text`` with URL query strings and userinfo replaced by ``[redacted]``.

    >>> redact("GET /recs/c1?limit=4&key=SECRET HTTP/1.1")
    'GET /recs/c1?[redacted] HTTP/1.1'
    """
    if "?" in text:
        text = _QUERY.sub("?[redacted]", text)
    if "@" in text:
        text = _USERINFO.sub("//[redacted]@", text)
    return text


class RedactUrls(logging.Filter):
    """Redacts the string arguments (and an argument-less message) of every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and record.args:
            record.args = tuple(redact(arg) if isinstance(arg, str) else arg for arg in record.args)
        elif not record.args and isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True


def install() -> None:
    """Add the filter to urllib3's loggers, once per process."""
    for name in URLLIB3_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(existing, RedactUrls) for existing in logger.filters):
            logger.addFilter(RedactUrls())
