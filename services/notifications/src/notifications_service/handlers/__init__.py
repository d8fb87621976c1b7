"""Event handlers of the notifications service, one router per area."""

from notifications_service.handlers.cases import cases
from notifications_service.handlers.signals import signals

__all__ = ["cases", "signals"]
