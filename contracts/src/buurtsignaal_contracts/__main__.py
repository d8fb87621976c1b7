"""``python -m buurtsignaal_contracts generate|check``: keep contracts/schemas/ right.

generate  writes the JSON Schema of every event; refuses a change that breaks
          a published version (make a new version v<N+1> instead).
check     exits 1 when a schema file is stale or a published version is broken.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from buurtsignaal_contracts.compatibility import breaking_changes
from buurtsignaal_contracts.published import SCHEMAS_DIR, published_versions
from buurtsignaal_contracts.schemas import generated_schemas, write_schemas


def incompatibilities(directory: Path) -> list[str]:
    problems = []
    for name, text in generated_schemas().items():
        current = json.loads(text)
        for label, published in published_versions(directory / name):
            problems += [f"{name} vs {label}: {p}" for p in breaking_changes(published, current)]
    return problems


def stale_files(directory: Path) -> list[str]:
    return [
        name
        for name, text in generated_schemas().items()
        if not (directory / name).exists() or (directory / name).read_text() != text
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m buurtsignaal_contracts")
    parser.add_argument("command", choices=["generate", "check"])
    parser.add_argument("--dir", type=Path, default=SCHEMAS_DIR)
    args = parser.parse_args(argv)

    problems = incompatibilities(args.dir)
    for problem in problems:
        print(f"breaking: {problem}", file=sys.stderr)
    if args.command == "generate":
        if problems:
            print("refusing to overwrite published versions; add a v<N+1> model", file=sys.stderr)
            return 1
        for name in write_schemas(args.dir):
            print(f"wrote {args.dir / name}")
        return 0
    stale = stale_files(args.dir)
    for name in stale:
        print(f"stale: {name} (run ./dev contracts)", file=sys.stderr)
    return 1 if problems or stale else 0


if __name__ == "__main__":
    sys.exit(main())
