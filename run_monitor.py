"""Start the monitor service: `python run_monitor.py [--config DIR] [--once [--all]]` is
the same as `monitor [--config DIR] run [--once [--all]]`."""

import sys

from monitor.cli import main


def _as_run_command(args: list[str]) -> list[str]:
    """Insert the `run` command after any root options."""
    if "run" in args:
        return args
    index = 0
    while index < len(args) and args[index].startswith("--config"):
        index += 1 if "=" in args[index] else 2
    return [*args[:index], "run", *args[index:]]


if __name__ == "__main__":
    sys.argv[1:] = _as_run_command(sys.argv[1:])
    main()
