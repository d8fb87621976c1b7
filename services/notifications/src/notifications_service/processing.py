"""The notifications service's processing activities (``servicekit.audit``).

Personal data passes through here for the mayor's letter only: names and
address fetched from signals, the rendered PDF, its delivery. Notifications
name a case and codes, never the person; reading them about a case the service
knows the person of (its letters) is logged as case notification reads.
"""

from __future__ import annotations

from buurtsignaal_contracts.codes import DataCategory
from servicekit.audit import Activity

_C = DataCategory

MAYOR_LETTER = Activity("mayor-letter", (_C.IDENTITY, _C.ADDRESS, _C.GUARDIANS, _C.LETTER))
MAYOR_LETTER_STATUS = Activity("mayor-letter-status", (_C.LETTER, _C.DELIVERY))
MAYOR_LETTER_DELIVERY = Activity("mayor-letter-delivery", (_C.LETTER, _C.DELIVERY))
LETTER_RETENTION = Activity("retention", (_C.LETTER,))
ERASURE_REQUEST = Activity("erasure-request", (_C.LETTER, _C.DELIVERY))
CASE_NOTIFICATIONS = Activity("case-notifications", (_C.NOTIFICATION,))
