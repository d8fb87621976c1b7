"""Why the rules refuse a step. The API turns each into a problem detail."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldProblem:
    field: str
    message: str
    code: str


class Refusal(Exception):
    """A step the rules do not allow; nothing has changed."""

    def __init__(self, field: str, message: str, code: str) -> None:
        super().__init__(f"{field}: {message}")
        self.problems = [FieldProblem(field, message, code)]

    @property
    def message(self) -> str:
        return "; ".join(f"{p.field}: {p.message}" for p in self.problems)


class TransitionRefused(Refusal):
    """The case's status does not allow this step (409: it conflicts with the case's state)."""

    def __init__(self, message: str, field: str = "status") -> None:
        super().__init__(field, message, "transition-not-allowed")


class InvalidStep(Refusal):
    """The request itself breaks a rule: a missing outcome, a date in the future (422)."""

    def __init__(self, field: str, message: str, code: str = "invalid") -> None:
        super().__init__(field, message, code)

    @classmethod
    def of(cls, problems: list[FieldProblem]) -> InvalidStep:
        refusal = cls(problems[0].field, problems[0].message, problems[0].code)
        refusal.problems = list(problems)
        return refusal


class VersionConflict(Refusal):
    """The case changed since the client read it (409; optimistic concurrency)."""

    def __init__(self, sent: int, current: int | None) -> None:
        now = f"the case is at version {current}" if current is not None else "the case changed"
        super().__init__(
            "version",
            f"{now}, you sent {sent}: someone changed it since you read it; "
            "read it again and decide again",
            "version-conflict",
        )
        self.current = current
