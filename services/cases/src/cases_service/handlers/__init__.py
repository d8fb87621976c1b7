"""Event handlers of the cases service, one router per area."""

from cases_service.handlers.letters import letters
from cases_service.handlers.signals import signals

__all__ = ["letters", "signals"]
