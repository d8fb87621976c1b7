"""Who may read which signals (need to know), and for which purpose.

- the reporting organisation: its own signals (roles reporter, worker);
- case workers and area managers: the signals about a person for whom one of
  their teams (token ``teams``) holds an open case;
- admins: everything (an operator role; every read is audit-logged).
Partners never see another organisation's signal; a signal one may not see
answers 404, exactly like a missing one.
"""

from __future__ import annotations

from typing import Any

from servicekit.auth import Principal, Role
from servicekit.mongo import UnitOfWork
from signals_service.store import CaseAccessStore, Signal

OWN_ORGANISATION = "signal-follow-up"
CASEWORK = "casework"
ADMINISTRATION = "administration"


def _own_org(principal: Principal) -> str | None:
    if principal.org and principal.has_any(Role.REPORTER, Role.WORKER):
        return principal.org
    return None


def _case_teams(principal: Principal) -> frozenset[str]:
    return principal.teams if principal.has_any(Role.WORKER, Role.AREA_MANAGER) else frozenset()


async def read_purpose(uow: UnitOfWork, principal: Principal, signal: Signal) -> str | None:
    """Why the caller may read this signal, or None when they may not."""
    if principal.has_any(Role.ADMIN):
        return ADMINISTRATION
    if signal.reporting_org == _own_org(principal):
        return OWN_ORGANISATION
    teams = _case_teams(principal)
    if teams and teams & await CaseAccessStore(uow).teams_with_open_case(signal.person):
        return CASEWORK
    return None


async def visible_query(uow: UnitOfWork, principal: Principal) -> dict[str, Any] | None:
    """A filter for the signals the caller may see; None when that is nothing."""
    if principal.has_any(Role.ADMIN):
        return {}
    clauses: list[dict[str, Any]] = []
    if org := _own_org(principal):
        clauses.append({"reporting_org": org})
    if teams := _case_teams(principal):
        persons = await CaseAccessStore(uow).persons_of_teams(teams)
        if persons:
            clauses.append({"person": {"$in": persons}})
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$or": clauses}
