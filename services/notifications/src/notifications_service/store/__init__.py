"""MongoDB collections of the notifications service (its own database only).

notifications          the in-app inbox (store/notifications.py)
deliveries             e-mails and webhooks to send, with every attempt (store/deliveries.py)
webhook_subscriptions  partner subscriptions (store/subscriptions.py)
letters                mayor's letters (store/letters.py); audit_log is the kit's
case_assignments       who works on a case, learned from events (store/assignments.py)
person_keys,           per person: the data key of their letters, and which cases are
case_persons           about them, for erasure (store/persons.py)
"""

from notifications_service.store import assignments, deliveries, letters, notifications, persons
from notifications_service.store import subscriptions as subscriptions

INDEXES = [
    *notifications.INDEXES,
    *deliveries.INDEXES,
    *subscriptions.INDEXES,
    *letters.INDEXES,
    *persons.INDEXES,
]

__all__ = [
    "INDEXES",
    "assignments",
    "deliveries",
    "letters",
    "notifications",
    "persons",
    "subscriptions",
]
