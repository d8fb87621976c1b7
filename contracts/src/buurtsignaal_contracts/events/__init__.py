"""All event models, one module per publishing service."""

from buurtsignaal_contracts.events.cases import (
    CaseAssigned,
    CaseClosed,
    CaseFacts,
    CaseOpened,
    CaseReopened,
    CaseStatusChanged,
    ContactRecorded,
    DeadlineBreached,
    MayorLetterAnswered,
    MayorLetterRequested,
    ScreeningCompleted,
)
from buurtsignaal_contracts.events.notifications import MayorLetterSent, NotificationSent
from buurtsignaal_contracts.events.processing import (
    CasesPersonalDataProcessed,
    NotificationsPersonalDataProcessed,
    PersonalDataProcessed,
    SignalsPersonalDataProcessed,
    personal_data_processed,
)
from buurtsignaal_contracts.events.signals import (
    MatchParticipant,
    SignalExpired,
    SignalMatched,
    SignalReceived,
    SignalWithdrawn,
    SubjectErased,
)

__all__ = [
    "CaseAssigned",
    "CaseClosed",
    "CaseFacts",
    "CaseOpened",
    "CaseReopened",
    "CaseStatusChanged",
    "CasesPersonalDataProcessed",
    "ContactRecorded",
    "DeadlineBreached",
    "MatchParticipant",
    "MayorLetterAnswered",
    "MayorLetterRequested",
    "MayorLetterSent",
    "NotificationSent",
    "NotificationsPersonalDataProcessed",
    "PersonalDataProcessed",
    "ScreeningCompleted",
    "SignalExpired",
    "SignalMatched",
    "SignalReceived",
    "SignalWithdrawn",
    "SignalsPersonalDataProcessed",
    "SubjectErased",
    "personal_data_processed",
]
