"""MongoDB collections of the notifications service (its own database only).

notifications          the in-app inbox (store/notifications.py)
deliveries             e-mails and webhooks to send, with every attempt (store/deliveries.py)
webhook_subscriptions  partner subscriptions (store/subscriptions.py)
letters                mayor's letters (store/letters.py); audit_log is the kit's
case_assignments       who works on a case, learned from events (store/assignments.py)
case_persons           whose case it is (pseudonym), for audit records of inbox reads
"""

from notifications_service.store import (
    assignments,
    case_persons,
    deliveries,
    letters,
    notifications,
)
from notifications_service.store import subscriptions as subscriptions

INDEXES = [
    *notifications.INDEXES,
    *deliveries.INDEXES,
    *subscriptions.INDEXES,
    *letters.INDEXES,
    *case_persons.INDEXES,
]

__all__ = [
    "INDEXES",
    "assignments",
    "case_persons",
    "deliveries",
    "letters",
    "notifications",
    "subscriptions",
]
