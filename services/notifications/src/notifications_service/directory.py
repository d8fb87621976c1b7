"""The staff directory: account id -> contact details, teams and roles; team mailboxes.

Configuration, not data of another service: the packaged file is synthetic,
``STAFF_DIRECTORY_FILE`` points at the organisation's own. The notifications
service never asks another service who somebody is.
"""

from __future__ import annotations

from functools import cached_property
from importlib import resources
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from servicekit.areas import CODE

ACCOUNT = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"
# A plain address check; the mail server is the judge of the rest.
EMAIL = r"^[^@\s<>]+@[^@\s<>]+\.[A-Za-z0-9-]+$"


class StaffMember(BaseModel):
    model_config = ConfigDict(frozen=True)

    account: str = Field(pattern=ACCOUNT, description="The sub of their token.")
    name: str = Field(min_length=1, max_length=100)
    email: str | None = Field(None, pattern=EMAIL)
    phone: str | None = Field(None, max_length=30)
    organisation: str = Field(pattern=CODE)
    teams: frozenset[str] = frozenset()
    roles: frozenset[str] = frozenset()


class TeamMailbox(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: str = Field(pattern=CODE)
    email: str = Field(pattern=EMAIL)


class StaffDirectory(BaseModel):
    model_config = ConfigDict(frozen=True)

    staff: list[StaffMember]
    teams: list[TeamMailbox] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_accounts(self) -> StaffDirectory:
        accounts = [m.account for m in self.staff]
        duplicates = sorted({a for a in accounts if accounts.count(a) > 1})
        if duplicates:
            raise ValueError(f"accounts listed twice: {', '.join(duplicates)}")
        return self

    @cached_property
    def _by_account(self) -> dict[str, StaffMember]:
        return {m.account: m for m in self.staff}

    def member(self, account: str | None) -> StaffMember | None:
        return self._by_account.get(account) if account else None

    def email_of(self, account: str) -> str | None:
        member = self.member(account)
        return member.email if member else None

    def team_mailbox(self, team: str) -> str | None:
        return next((t.email for t in self.teams if t.code == team), None)

    def with_role(self, role: str) -> list[StaffMember]:
        return [m for m in self.staff if role in m.roles]

    def members_of(self, team: str, role: str | None = None) -> list[StaffMember]:
        return [m for m in self.staff if team in m.teams and (role is None or role in m.roles)]

    @property
    def match_coordinators(self) -> list[StaffMember]:
        return self.with_role("match-coordinator")


def load_staff_directory(path: Path | None = None) -> StaffDirectory:
    if path is None:
        text = resources.files("notifications_service").joinpath("config/staff.yaml").read_text()
    else:
        text = path.read_text()
    return StaffDirectory.model_validate(yaml.safe_load(text))
