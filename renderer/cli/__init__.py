"""The ``renderer`` command: ``main`` parses, calls the library and turns errors into exit codes;
``args`` holds the options several commands share; one module per command group registers
its commands; ``exits`` names the exit codes.
"""

import gc
import sys


def run() -> None:
    """The ``renderer`` console script: Ctrl+C while the command loads is a quiet exit too."""
    try:
        from renderer.cli.main import main
    except KeyboardInterrupt:
        sys.exit(130)
    code = main()
    # The command is done: what the process built (compiled templates, caches, a batch's worth of
    # objects) is left out of the last garbage collection at exit, which cost 0.1-0.2 s after a
    # 10,000-recipient batch. atexit handlers and the closing of files still run.
    gc.freeze()
    sys.exit(code)
