"""Settings of the notifications service (environment variables)."""

from __future__ import annotations

from servicekit.settings import ServiceSettings


class NotificationsSettings(ServiceSettings):
    service_name: str = "notifications"
    http_port: int = 8003
