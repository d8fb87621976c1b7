"""Wiring of the notifications service."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta

from buurtsignaal_contracts.codes import NotificationChannel
from notifications_service import access_matrix, api, handlers, store
from notifications_service.channels.live import LiveFeed, run_live_feed
from notifications_service.channels.mail import Mailer
from notifications_service.channels.webhook import WebhookPoster
from notifications_service.crypto import Vault
from notifications_service.delivery_worker import (
    DeliveryWorker,
    refresh_delivery_gauges,
    run_delivery_worker,
)
from notifications_service.directory import load_staff_directory
from notifications_service.dispatch import Dispatcher
from notifications_service.domain.deliveries import RetrySchedule
from notifications_service.letters.desk import LetterDesk, purge_expired_letters, run_letter_desk
from notifications_service.letters.pdf import LetterPdf
from notifications_service.letters.signals_client import LetterDetailsClient
from notifications_service.messages import Messages
from notifications_service.metrics import NotificationMetrics
from notifications_service.settings import NotificationsSettings
from notifications_service.staff import Staff
from servicekit.app import ServiceDefinition, ServiceRuntime
from servicekit.areas import load_area_config
from servicekit.scheduling import every
from servicekit.service_auth import service_tokens

log = logging.getLogger(__name__)


def dependencies(runtime: ServiceRuntime) -> Iterable[object]:
    settings = runtime.settings
    assert isinstance(settings, NotificationsSettings)
    assert settings.letter_encryption_key is not None
    db, clock, transactions = runtime.mongo.db, runtime.clock, runtime.transactions
    metrics = NotificationMetrics(runtime.metrics.registry)
    areas = load_area_config(settings.area_config_file)
    staff = Staff(load_staff_directory(settings.staff_directory_file), areas)
    vault = Vault(settings.letter_encryption_key.get_secret_value())
    messages = Messages(areas, settings.app_base_url)
    mailer = _mailer(settings, runtime)
    dispatcher = Dispatcher(messages, vault, metrics, email_enabled=mailer is not None)
    worker = DeliveryWorker(
        db,
        transactions,
        clock,
        dispatcher,
        metrics,
        mailer=mailer,
        poster=WebhookPoster(clock, settings.webhook_timeout),
        schedules={
            NotificationChannel.EMAIL: RetrySchedule.of(settings.email_retry_schedule),
            NotificationChannel.WEBHOOK: RetrySchedule.of(settings.webhook_retry_schedule),
        },
        lease=timedelta(seconds=settings.delivery_lease_seconds),
        concurrency=settings.delivery_concurrency,
        poll_interval=settings.delivery_poll_interval,
    )
    desk = LetterDesk(
        db,
        transactions,
        clock,
        LetterDetailsClient(settings.signals_url, service_tokens(settings, settings)),
        LetterPdf(settings.letter_font_file, settings.letter_font_bold_file),
        vault,
        dispatcher,
        staff,
        metrics,
        schedule=RetrySchedule.of(settings.letter_render_retry_schedule),
        retention=timedelta(days=settings.letter_retention_days),
        lease=timedelta(seconds=settings.delivery_lease_seconds),
        poll_interval=settings.delivery_poll_interval,
        service_account=f"svc-{settings.service_name}",
    )
    feed = LiveFeed(db, metrics, queue_size=settings.live_queue_size)
    return [metrics, staff, vault, messages, dispatcher, worker, desk, feed]


def _mailer(settings: NotificationsSettings, runtime: ServiceRuntime) -> Mailer | None:
    if settings.smtp_host is None:
        log.info("e-mail is off: SMTP_HOST is not set")
        return None
    return Mailer(
        host=settings.smtp_host,
        port=settings.smtp_port,
        sender=settings.mail_from,
        clock=runtime.clock,
        username=settings.smtp_username,
        password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
        starttls=settings.smtp_starttls,
        timeout=settings.smtp_timeout,
    )


def definition(settings: NotificationsSettings | None = None) -> ServiceDefinition:
    settings = settings or NotificationsSettings()
    return ServiceDefinition(
        name="notifications",
        title="buurtsignaal notifications",
        description="In-app inbox and live stream, e-mail, partner webhooks, the mayor's letter.",
        settings=settings,
        api_routers=api.ROUTERS,
        access=access_matrix.MATRIX,
        event_routers=[handlers.cases, handlers.signals],
        indexes=store.INDEXES,
        dependencies=dependencies,
        background_tasks=[
            run_live_feed,
            run_delivery_worker,
            run_letter_desk,
            every(timedelta(seconds=settings.letter_purge_interval), purge_expired_letters),
            every(timedelta(seconds=15), refresh_delivery_gauges),
        ],
    )
