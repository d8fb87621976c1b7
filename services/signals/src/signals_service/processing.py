"""The signals service's processing activities (its part of the register of
processing, *verwerkingsregister*): what each audit record says it was for.

The signals service holds identity, addresses and descriptions; everything it
does with them is one of these activities (``servicekit.audit``).
"""

from __future__ import annotations

from buurtsignaal_contracts.codes import Confidentiality, DataCategory
from servicekit.audit import Activity

_C = DataCategory
_PERSON = (_C.IDENTITY, _C.ADDRESS, _C.GUARDIANS)
_SIGNAL = (_C.SIGNAL_CONTENT, _C.SIGNAL_FACTS)

SIGNAL_INTAKE = Activity("signal-intake", (*_PERSON, *_SIGNAL))
SIGNAL_FOLLOW_UP = Activity("signal-follow-up", (*_SIGNAL, _C.MATCH))
CASEWORK = Activity("casework", (*_SIGNAL, _C.MATCH))
ADMINISTRATION = Activity("administration", (*_SIGNAL, _C.MATCH))
SIGNAL_OVERVIEW = Activity("signal-overview", (_C.SIGNAL_FACTS,))
SIGNAL_WITHDRAWAL = Activity("signal-withdrawal", _SIGNAL)
RETENTION = Activity("retention", (*_PERSON, *_SIGNAL))
WRONGFUL_SIGNAL = Activity("wrongful-signal", (*_PERSON, *_SIGNAL))
DECEASED = Activity("deceased", (*_PERSON, *_SIGNAL))
MAYOR_LETTER = Activity("mayor-letter", _PERSON)
ERASURE_REQUEST = Activity("erasure-request", (*_PERSON, *_SIGNAL, _C.MATCH))
KEY_ROTATION = Activity("key-rotation", (_C.IDENTITY, _C.ADDRESS))
ACCESS_REQUEST = Activity(
    "access-request", (_C.ACCESS_TRAIL,), confidentiality=Confidentiality.CONFIDENTIAL
)

READS = {a.code: a for a in (SIGNAL_FOLLOW_UP, CASEWORK, ADMINISTRATION)}
"""The activity of a read, by the purpose ``access.read_purpose`` gives."""

BY_CODE = {
    a.code: a
    for a in (
        SIGNAL_INTAKE,
        SIGNAL_FOLLOW_UP,
        CASEWORK,
        ADMINISTRATION,
        SIGNAL_OVERVIEW,
        SIGNAL_WITHDRAWAL,
        RETENTION,
        WRONGFUL_SIGNAL,
        DECEASED,
        MAYOR_LETTER,
        ERASURE_REQUEST,
        KEY_ROTATION,
        ACCESS_REQUEST,
    )
}
