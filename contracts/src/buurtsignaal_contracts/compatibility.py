"""Decide whether a new JSON Schema of a published event version breaks consumers.

Breaking (needs a new version ``v<N+1>``):

- a field that existed is removed;
- a field becomes required that was not;
- a type is narrowed: a JSON type, enum value or branch no longer accepted,
  or a tighter constraint (pattern, format, length, range, const).

Adding optional fields, enum values or union branches is compatible.
"""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]

_LOWER_BOUNDS = ("minimum", "exclusiveMinimum", "minLength", "minItems")
_UPPER_BOUNDS = ("maximum", "exclusiveMaximum", "maxLength", "maxItems")
_EXACT = ("pattern", "format", "const")


def breaking_changes(old: Schema, new: Schema) -> list[str]:
    """Every incompatibility of ``new`` against ``old``, as readable sentences."""
    return _Comparison(old, new).compare(old, new, "$")


class _Comparison:
    def __init__(self, old_root: Schema, new_root: Schema) -> None:
        self.old_root = old_root
        self.new_root = new_root

    def compare(self, old: Schema, new: Schema, path: str) -> list[str]:
        old_branches = _branches(_resolve(self.old_root, old), self.old_root)
        new_branches = _branches(_resolve(self.new_root, new), self.new_root)
        problems: list[str] = []
        for old_branch in old_branches:
            kind = _kind(old_branch)
            match = next((b for b in new_branches if _accepts_kind(_kind(b), kind)), None)
            if match is None:
                problems.append(f"{path}: type narrowed, {kind} no longer accepted")
                continue
            problems += self._compare_branch(old_branch, match, kind, path)
        return problems

    def _compare_branch(self, old: Schema, new: Schema, kind: str, path: str) -> list[str]:
        problems = _constraint_changes(old, new, path)
        if kind == "object":
            problems += self._compare_objects(old, new, path)
        elif kind == "array" and "items" in old and "items" in new:
            problems += self.compare(old["items"], new["items"], f"{path}[]")
        return problems

    def _compare_objects(self, old: Schema, new: Schema, path: str) -> list[str]:
        problems = []
        old_props = old.get("properties", {})
        new_props = new.get("properties", {})
        for name in old_props:
            if name not in new_props:
                problems.append(f"{path}.{name}: field removed")
        for name in sorted(set(new.get("required", [])) - set(old.get("required", []))):
            problems.append(f"{path}.{name}: new required field")
        for name in old_props.keys() & new_props.keys():
            problems += self.compare(old_props[name], new_props[name], f"{path}.{name}")
        return sorted(problems)


def _resolve(root: Schema, node: Schema) -> Schema:
    seen = 0
    while "$ref" in node:
        ref = node["$ref"]
        if not ref.startswith("#/"):
            raise ValueError(f"only local references are supported, got {ref}")
        target: Any = root
        for part in ref[2:].split("/"):
            target = target[part]
        node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
        seen += 1
        if seen > 50:
            raise ValueError(f"reference cycle at {ref}")
    return node


def _branches(node: Schema, root: Schema) -> list[Schema]:
    for key in ("anyOf", "oneOf"):
        if key in node:
            branches: list[Schema] = []
            for branch in node[key]:
                branches += _branches(_resolve(root, branch), root)
            return branches
    if isinstance(node.get("type"), list):
        return [{**node, "type": t} for t in node["type"]]
    return [node]


def _kind(node: Schema) -> str:
    if "type" in node:
        return str(node["type"])
    if "const" in node:
        return _json_type(node["const"])
    if node.get("enum"):
        return _json_type(node["enum"][0])
    if "properties" in node:
        return "object"
    return "any"


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "object" if isinstance(value, dict) else "array"


def _accepts_kind(new_kind: str, old_kind: str) -> bool:
    return new_kind in (old_kind, "any") or (new_kind == "number" and old_kind == "integer")


def _constraint_changes(old: Schema, new: Schema, path: str) -> list[str]:
    problems = []
    if "enum" in new:
        lost = [v for v in old.get("enum", []) if v not in new["enum"]]
        if "enum" not in old:
            problems.append(f"{path}: type narrowed to an enumeration")
        elif lost:
            problems.append(f"{path}: enumeration narrowed, removed {lost}")
    for key in _EXACT:
        if key in new and new[key] != old.get(key):
            problems.append(f"{path}: {key} narrowed to {new[key]!r}")
    for key in _LOWER_BOUNDS:
        if key in new and (key not in old or new[key] > old[key]):
            problems.append(f"{path}: {key} raised to {new[key]}")
    for key in _UPPER_BOUNDS:
        if key in new and (key not in old or new[key] < old[key]):
            problems.append(f"{path}: {key} lowered to {new[key]}")
    return problems
