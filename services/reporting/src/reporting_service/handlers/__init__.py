"""Projections: every event of every service becomes facts (see store.py).

One router per publishing service. Handlers run in the kit's inbox, so a
redelivered event changes nothing; an event that refers to a case or a signal
not yet projected raises ``NotYetProjected`` and is retried by the kit.
"""

from reporting_service.handlers.cases import cases
from reporting_service.handlers.notifications import notifications
from reporting_service.handlers.signals import signals

ROUTERS = [signals, cases, notifications]

__all__ = ["ROUTERS", "cases", "notifications", "signals"]
