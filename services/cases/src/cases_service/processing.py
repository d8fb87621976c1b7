"""The cases service's processing activities (``servicekit.audit``).

A case is about one (pseudonymised) person: every view of a case and every
change to it is a processing of that person's data, audit-logged as one of these.
"""

from __future__ import annotations

from buurtsignaal_contracts.codes import DataCategory
from servicekit.audit import Activity

_C = DataCategory

CASE_OPENING = Activity("case-opening", (_C.CASE_FACTS, _C.SIGNAL_FACTS))
CASEWORK = Activity("casework", (_C.CASE_FACTS,))
SCREENING = Activity("screening", (_C.SCREENING, _C.CASE_FACTS))
CONTACTS = Activity("contact-registration", (_C.CONTACTS, _C.CASE_FACTS))
MAYOR_LETTER = Activity("mayor-letter", (_C.LETTER, _C.CASE_FACTS))
MATCH = Activity("match", (_C.MATCH, _C.CASE_FACTS))
SIGNAL_LIFECYCLE = Activity("signal-lifecycle", (_C.SIGNAL_FACTS, _C.CASE_FACTS))
DEADLINE_MONITORING = Activity("deadline-monitoring", (_C.CASE_FACTS,))
