"""``python -m reporting_service``: run the service, or rebuild its projection.

    python -m reporting_service                       serve (HTTP API and consumers)
    python -m reporting_service rebuild               replay the archive into MONGODB_DATABASE
    python -m reporting_service rebuild --database buurtsignaal_reporting_2 [--replace]

Settings come from the environment, as for the service (AMQP_URL, MONGODB_URL, ...).
"""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m reporting_service",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("serve", help="run the service (the default)")
    rebuild = commands.add_parser("rebuild", help="replay the archive stream into a projection")
    rebuild.add_argument("--database", help="target database (default: MONGODB_DATABASE)")
    rebuild.add_argument(
        "--replace", action="store_true", help="drop a projection already in the target"
    )
    rebuild.add_argument("--no-progress", action="store_true", help="no progress bar")
    rebuild.add_argument("--prefetch", type=int, default=200, help="stream prefetch (1-1000)")
    args = parser.parse_args(argv)

    if args.command == "rebuild":
        from reporting_service.rebuild import run_rebuild
        from servicekit.logs import configure_logging

        configure_logging("reporting-rebuild", "WARNING")
        return run_rebuild(args)

    from reporting_service.app import definition
    from servicekit.runner import serve

    serve(definition)
    return 0


if __name__ == "__main__":
    sys.exit(main())
