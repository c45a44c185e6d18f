"""The ``renderer`` command's exit codes, in one place.

An error's own code is its class's ``exit_code`` (``renderer.base.errors``);
these are the others.
"""

EXIT_OK = 0
"""Everything asked for was done."""
EXIT_FAILED = 1
"""It ran, and some of it failed: recipients that did not render, checks that found errors."""
EXIT_USAGE_OR_INPUT = 2
"""Bad options or input, or a file that cannot be read or written (as ``RendererError.exit_code``)."""
EXIT_INTERRUPTED = 130
"""Ctrl+C (128 + SIGINT)."""
EXIT_TERMINATED = 143
"""Stopped by SIGTERM (128 + SIGTERM), after keeping what was done."""
EXIT_BROKEN_PIPE = 141
"""The reader of the output went away (128 + SIGPIPE), as ``| head`` does."""
