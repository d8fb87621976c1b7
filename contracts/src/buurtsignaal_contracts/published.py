"""Find every published version of a schema file: all versions ever committed.

"Published" means it reached the repository's history; a consumer may have
built on any of those, so a new schema must stay compatible with all of them.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

CONTRACTS_DIR = Path(__file__).resolve().parents[2]
SCHEMAS_DIR = CONTRACTS_DIR / "schemas"


def published_versions(path: Path) -> list[tuple[str, dict[str, Any]]]:
    """(label, schema) for every committed version of ``path``, newest first.

    Outside a git checkout (an installed package, a source archive) only the
    file on disk counts as published.
    """
    versions = []
    for commit in _commits_touching(path):
        text = _git(path.parent, "show", f"{commit}:./{path.name}")
        if text is not None:
            versions.append((f"commit {commit[:10]}", json.loads(text)))
    if not versions and path.exists():
        versions.append(("file on disk", json.loads(path.read_text())))
    return versions


def _commits_touching(path: Path) -> list[str]:
    out = _git(path.parent, "log", "--format=%H", "--", path.name)
    return out.split() if out else []


def _git(cwd: Path, *args: str) -> str | None:
    try:
        result = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, check=False, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout if result.returncode == 0 else None
