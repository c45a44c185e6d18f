"""The ``renderer`` command: ``main`` parses, calls the library and turns errors into exit codes;
``args`` holds the options several commands share; one module per command group registers
its commands; ``exits`` names the exit codes.
"""

import sys


def run() -> None:
    """The ``renderer`` console script: Ctrl+C while the command loads is a quiet exit too."""
    try:
        from renderer.cli.main import main
    except KeyboardInterrupt:
        sys.exit(130)
    sys.exit(main())
