"""Who may read which signals (need to know), and for which purpose.

The roles and their scopes per route are in ``access_matrix.py``; this module
applies the scopes to signals:

- ``own-organisation``: the signals the token's organisation reported;
- ``own-team``: the signals about a person for whom one of the token's teams
  holds an open case;
- ``any``: everything (admins; every read is audit-logged).
Partners never see another organisation's signal; a signal one may not see
answers 404, exactly like a missing one.
"""

from __future__ import annotations

from typing import Any

from servicekit.authz import Access, Scope
from servicekit.mongo import UnitOfWork
from signals_service.store import CaseAccessStore, Signal

OWN_ORGANISATION = "signal-follow-up"
CASEWORK = "casework"
ADMINISTRATION = "administration"


def _case_teams(access: Access) -> frozenset[str]:
    return access.principal.teams if access.has(Scope.OWN_TEAM) else frozenset()


async def read_purpose(uow: UnitOfWork, access: Access, signal: Signal) -> str | None:
    """Why the caller may read this signal, or None when they may not."""
    if access.unrestricted:
        return ADMINISTRATION
    if (org := access.organisation()) and signal.reporting_org == org:
        return OWN_ORGANISATION
    teams = _case_teams(access)
    if teams and teams & await CaseAccessStore(uow).teams_with_open_case(signal.person):
        return CASEWORK
    return None


async def visible_query(uow: UnitOfWork, access: Access) -> dict[str, Any] | None:
    """A filter for the signals the caller may see; None when that is nothing."""
    if access.unrestricted:
        return {}
    clauses: list[dict[str, Any]] = []
    if org := access.organisation():
        clauses.append({"reporting_org": org})
    if teams := _case_teams(access):
        persons = await CaseAccessStore(uow).persons_of_teams(teams)
        if persons:
            clauses.append({"person": {"$in": persons}})
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$or": clauses}
