"""Pure rules: who hears what, what partners may hear, retries, signatures, letters, settings."""

from __future__ import annotations

import io
import itertools
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError
from pypdf import PdfReader

from buurtsignaal_contracts.codes import (
    Escalation,
    LetterAddressee,
    LetterDeliveryMethod,
    LetterHandedTo,
    RecipientKind,
)
from notifications_service.directory import load_staff_directory
from notifications_service.domain import routing
from notifications_service.domain.deliveries import (
    AttemptOutcome,
    DeliveryStatus,
    RetrySchedule,
    after_attempt,
)
from notifications_service.domain.letters import (
    Address,
    DeliveryRejected,
    LetterFacts,
    LetterStatus,
    Name,
    WorkerContact,
    check_delivery,
)
from notifications_service.domain.webhooks import (
    ChannelFilter,
    ChannelName,
    publication_for,
    sign,
    signature_headers,
    subscription_hears,
    verify,
)
from notifications_service.letters.pdf import LetterPdf
from notifications_service.messages import Messages
from notifications_service.settings import DEVELOPMENT_LETTER_KEY, NotificationsSettings
from servicekit.areas import load_area_config
from servicekit.testing import PRODUCTION_CONNECTIONS
from servicekit.testing.event_factories import (
    case_assigned,
    deadline_breached,
    match_participant,
    screening_completed,
    signal_matched,
)
from servicekit.testing.events import case_opened

DIRECTORY = load_staff_directory()
AREAS = load_area_config()
NOW = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)


def people(case_worker: str | None = None) -> routing.People:
    return routing.People(DIRECTORY, AREAS, case_worker)


def recipients(notices: list[routing.Notice]) -> list[tuple[str, str, str, str | None]]:
    return [(n.topic.value, r.kind.value, r.ref, r.email) for n in notices for r in n.recipients]


# --- who hears what ------------------------------------------------------------------------


def test_a_new_case_goes_to_the_team_and_its_mailbox():
    notices = routing.case_opened(case_opened(team="wot-oost", district="oost"), people())
    assert recipients(notices) == [
        ("case-opened", "team", "wot-oost", "wot-oost@buurtsignaal.schiedam.example")
    ]


def test_a_team_without_a_mailbox_is_mailed_through_its_workers_in_the_directory():
    without_mailboxes = DIRECTORY.model_copy(update={"teams": []})
    notices = routing.case_opened(case_opened(), routing.People(without_mailboxes, AREAS))
    (notice,) = notices
    assert [(r.kind.value, r.ref, r.email, r.in_app) for r in notice.recipients] == [
        ("team", "wot-west", None, True),
        ("user", "w-west-1", "w-west-1@buurtsignaal.schiedam.example", False),
        ("user", "w-west-2", "w-west-2@buurtsignaal.schiedam.example", False),
    ]


def test_an_assignment_tells_the_new_worker_and_the_previous_one_never_the_assigner():
    notices = routing.case_assigned(
        case_assigned(worker="w-west-2", previous_worker="w-west-1", assigned_by="am-02"),
        people(),
    )
    assert recipients(notices) == [
        ("case-assigned", "user", "w-west-2", "w-west-2@buurtsignaal.schiedam.example"),
        ("case-reassigned", "user", "w-west-1", None),
    ]
    self_assigned = routing.case_assigned(
        case_assigned(worker="am-02", assigned_by="am-02"), people()
    )
    assert self_assigned == []


def test_a_match_tells_each_professional_about_the_others_and_the_coordinator_about_all():
    a, b = (
        match_participant("obs-de-singel", "r-school"),
        match_participant("politie-schiedam", "r-police"),
    )
    (notice,) = routing.signal_matched(signal_matched(participants=[a, b]), people())
    by_ref = {r.ref: r for r in notice.recipients}
    assert set(by_ref) == {"r-school", "r-police", "mc-01"}
    assert [c.account for c in by_ref["r-school"].contacts] == ["r-police"]
    assert by_ref["r-school"].contacts[0].phone == "010 555 0402"
    assert [c.account for c in by_ref["mc-01"].contacts] == ["r-school", "r-police"]
    assert notice.facts == {
        "organisations": "obs-de-singel, politie-schiedam",
        "count": "2",
        "household": "no",
    }


def test_one_professional_twice_in_a_match_hears_it_once():
    twice = [
        match_participant("obs-de-singel", "r-school"),
        match_participant("politie-schiedam", "r-school"),
    ]
    (notice,) = routing.signal_matched(signal_matched(participants=twice), people())
    assert [r.ref for r in notice.recipients] == ["r-school", "mc-01"]


def test_a_breached_deadline_goes_to_the_worker_then_to_the_area_manager():
    first = routing.deadline_breached(deadline_breached(worker="w-west-1"), people())
    assert recipients(first) == [
        ("deadline-breached", "user", "w-west-1", "w-west-1@buurtsignaal.schiedam.example")
    ]
    nobody = routing.deadline_breached(deadline_breached(worker=None), people())
    assert [(r[1], r[2]) for r in recipients(nobody)] == [("team", "wot-west")]
    learned = routing.deadline_breached(deadline_breached(worker=None), people("w-west-2"))
    assert [r[2] for r in recipients(learned)] == ["w-west-2"]
    escalated = routing.deadline_breached(
        deadline_breached(escalation=Escalation.AREA_MANAGER, worker="w-west-1"), people()
    )
    assert recipients(escalated) == [
        ("deadline-escalated", "user", "am-02", "am-02@buurtsignaal.schiedam.example"),
        ("deadline-escalated", "user", "w-west-1", None),
    ]


def test_a_screening_goes_to_the_area_manager_and_the_worker_unless_they_scored_it():
    scored_by_worker = routing.screening_completed(
        screening_completed(completed_by="w-west-1"), people("w-west-1")
    )
    assert [r[2] for r in recipients(scored_by_worker)] == ["am-02"]
    by_colleague = routing.screening_completed(
        screening_completed(completed_by="w-west-2"), people("w-west-1")
    )
    assert [r[2] for r in recipients(by_colleague)] == ["am-02", "w-west-1"]


def test_somebody_outside_the_directory_is_told_in_app_only():
    (notice,) = routing.case_assigned(case_assigned(worker="w-new-temp"), people())
    assert notice.recipients == (routing.Recipient(RecipientKind.USER, "w-new-temp", None),)


def test_every_topic_renders_in_dutch_with_codes_and_a_link_only():
    messages = Messages(AREAS, "https://app.example")
    notices = [
        *routing.case_opened(case_opened(), people()),
        *routing.case_assigned(case_assigned(previous_worker="w-west-2"), people()),
        *routing.signal_matched(signal_matched(household=True), people()),
        *routing.deadline_breached(deadline_breached(), people()),
        *routing.deadline_breached(deadline_breached(escalation=Escalation.AREA_MANAGER), people()),
        *routing.screening_completed(screening_completed(completed_by="x"), people("w-west-1")),
    ]
    for topic in (routing.Topic.MAYOR_LETTER_READY, routing.Topic.MAYOR_LETTER_FAILED):
        facts = {"programme": "intensive-youth-work", "district": "west", "team": "wot-west"}
        if topic is routing.Topic.MAYOR_LETTER_FAILED:
            facts["failure"] = "person-unknown"
        notices += routing.mayor_letter_outcome(
            topic, letter_id="l1", case_id="c1", worker="w-west-1", facts=facts, people=people()
        )
    rendered = {n.topic: messages.render(n) for n in notices}
    assert set(rendered) == set(routing.Topic) - {
        routing.Topic.MAYOR_LETTER_ANSWERED,
        routing.Topic.CASE_CLOSED,
    }
    assert rendered[routing.Topic.SIGNAL_MATCHED].title == (
        "Match: 2 organisaties signaleren hetzelfde huishouden"
    )
    for message in rendered.values():
        assert "{{" not in message.text and "Beste collega," in message.text
        assert message.text.count("https://app.example/") == 1
        assert "<" not in message.title


# --- what partners may hear ------------------------------------------------------------------


def test_a_match_reaches_only_the_organisations_in_it_whatever_the_filters():
    school = match_participant("obs-de-singel", "r-school")
    publication = publication_for(
        signal_matched(participants=[school, match_participant("politie-schiedam", "r-police")])
    )
    assert publication is not None
    everything = [ChannelFilter(ChannelName.SIGNALS)]
    assert subscription_hears("obs-de-singel", everything, publication)
    assert not subscription_hears("obs-het-anker", everything, publication)
    assert publication.attributes_for("obs-de-singel")["signal_id"] == [str(school.signal_id)]
    assert "signal_id" not in publication.attributes_for("obs-het-anker")
    police_only = [ChannelFilter(ChannelName.SIGNALS, filters={"organisation": "politie-schiedam"})]
    assert subscription_hears("obs-de-singel", police_only, publication)
    households = [ChannelFilter(ChannelName.SIGNALS, filters={"household": "true"})]
    assert not subscription_hears("obs-de-singel", households, publication)


def test_case_events_are_filtered_by_channel_type_and_attributes():
    publication = publication_for(case_opened(team="wot-oost", district="oost"))
    assert publication is not None and publication.audience is None
    assert subscription_hears("gemeente", [ChannelFilter(ChannelName.CASES)], publication)
    assert not subscription_hears("gemeente", [ChannelFilter(ChannelName.SIGNALS)], publication)
    wrong_type = ChannelFilter(ChannelName.CASES, frozenset({"case-closed"}))
    assert not subscription_hears("gemeente", [wrong_type], publication)
    west = ChannelFilter(ChannelName.CASES, filters={"district": "west"})
    oost = ChannelFilter(ChannelName.CASES, filters={"district": "oost", "team": "wot-oost"})
    assert not subscription_hears("gemeente", [west], publication)
    assert subscription_hears("gemeente", [west, oost], publication), "any channel may admit"


def test_the_signature_follows_standard_webhooks_and_refuses_tampering_and_replays():
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    # The test vector of the Standard Webhooks reference implementations: a partner's
    # off-the-shelf verifier accepts what we send.
    assert (
        sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, b'{"test": 2432232314}')
        == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    )
    body = b'{"type":"test"}'
    headers = signature_headers(secret, "msg-1", 1_700_000_000, body)
    assert verify(secret, headers, body, now=1_700_000_100)
    assert not verify(secret, headers, body + b" ", now=1_700_000_100)
    assert not verify(secret, headers, body, now=1_700_000_000 + 301), "too old: a replay"
    assert not verify("whsec_" + "A" * 32, headers, body, now=1_700_000_100)


# --- retries ------------------------------------------------------------------------------------


def test_the_default_webhook_schedule_tries_seven_times_over_about_a_day():
    schedule = RetrySchedule.of(NotificationsSettings().webhook_retry_schedule)
    assert schedule.max_attempts == 7
    assert timedelta(hours=20) <= schedule.total <= timedelta(hours=26)
    delays = schedule.delays
    assert all(later > earlier for earlier, later in itertools.pairwise(delays)), (
        "the backoff grows"
    )


def test_after_an_attempt_the_delivery_is_sent_retried_or_dead():
    schedule = RetrySchedule.of([10, 20])
    sent = after_attempt(AttemptOutcome.SENT, 1, schedule, NOW)
    assert sent.status is DeliveryStatus.SENT
    retry = after_attempt(AttemptOutcome.FAILED, 1, schedule, NOW)
    assert retry.status is DeliveryStatus.PENDING
    assert retry.next_attempt_at == NOW + timedelta(seconds=10)
    assert after_attempt(AttemptOutcome.FAILED, 2, schedule, NOW).next_attempt_at == NOW + (
        timedelta(seconds=20)
    )
    assert after_attempt(AttemptOutcome.FAILED, 3, schedule, NOW).status is DeliveryStatus.DEAD
    refused = after_attempt(AttemptOutcome.REFUSED, 1, schedule, NOW)
    assert refused.status is DeliveryStatus.DEAD


# --- letters -------------------------------------------------------------------------------------


def test_a_delivery_is_recorded_once_for_a_ready_letter_on_a_plausible_date():
    ok = dict(
        status=LetterStatus.READY,
        method=LetterDeliveryMethod.HOME_VISIT,
        handed_to=LetterHandedTo.PARENT,
        delivered_on=date(2026, 11, 5),
        requested_on=date(2026, 11, 3),
        today=date(2026, 11, 5),
    )
    check_delivery(**ok)
    for change, field in (
        ({"status": LetterStatus.DELIVERED}, "status"),
        ({"status": LetterStatus.REQUESTED}, "status"),
        ({"delivered_on": date(2026, 11, 6)}, "delivered_on"),
        ({"delivered_on": date(2026, 11, 2)}, "delivered_on"),
        ({"method": LetterDeliveryMethod.POST}, "handed_to"),
    ):
        with pytest.raises(DeliveryRejected) as rejected:
            check_delivery(**{**ok, **change})
        assert rejected.value.field == field
    check_delivery(
        **{**ok, "method": LetterDeliveryMethod.POST, "handed_to": LetterHandedTo.LETTERBOX}
    )


def facts(**changes) -> LetterFacts:
    fields = dict(
        reference="BB-0000000001",
        municipality="Schiedam",
        youth=Name("Noa", "Voorbeeld"),
        guardians=(Name("Łukasz", "Żółkiewski"),),
        address=Address("Voorbeeldstraat", "12", "3117 AB", "Schiedam"),
        addressees=(LetterAddressee.YOUTH, LetterAddressee.PARENTS),
        worker=WorkerContact("Gijs Voorbeeld", "010 555 0203", None),
        dated=date(2026, 11, 3),
    )
    return LetterFacts(**{**fields, **changes})


def text(pdf: bytes) -> str:
    return PdfReader(io.BytesIO(pdf)).pages[0].extract_text()


def test_the_letter_to_the_youth_alone_speaks_to_the_youth():
    rendered = text(LetterPdf().render(facts(addressees=(LetterAddressee.YOUTH,))))
    assert "Beste Noa," in rendered and "Zółkiewski" not in rendered
    assert "3 november 2026" in rendered and "3117 AB  SCHIEDAM" in rendered
    assert "E-mail" not in rendered, "no line for an address the worker does not have"


def test_without_a_font_file_names_outside_latin_1_are_simplified_not_lost():
    rendered = text(LetterPdf().render(facts()))
    assert "Lukasz Zólkiewski" in rendered


DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


@pytest.mark.skipif(not DEJAVU.exists(), reason="no DejaVu font on this machine")
def test_with_a_font_file_every_name_prints_as_written():
    bold = DEJAVU.with_name("DejaVuSans-Bold.ttf")
    rendered = text(LetterPdf(DEJAVU, bold if bold.exists() else None).render(facts()))
    assert "Łukasz Żółkiewski" in rendered


# --- configuration ----------------------------------------------------------------------------


def test_every_team_of_the_area_configuration_has_a_mailbox_and_a_manager_in_the_directory():
    mailboxes = {t.code for t in DIRECTORY.teams}
    for team in AREAS.teams:
        assert team.code in mailboxes
        manager = DIRECTORY.member(team.area_manager)
        assert manager is not None and "area-manager" in manager.roles
        assert team.code in manager.teams
    assert DIRECTORY.match_coordinators


def test_production_refuses_development_secrets_and_missing_mail_or_keys():
    complete = dict(
        **PRODUCTION_CONNECTIONS,
        signals_url="https://signals.example",
        smtp_host="smtp.example",
        smtp_starttls=True,
        letter_encryption_key="dGVzdC1vbmx5LWtleS1mb3ItbGV0dGVyLXN0b3JlLTE=",
        service_token_url="https://idp.example/token",
        service_client_id="notifications",
        service_client_secret="s3cret",
    )
    NotificationsSettings(**complete)
    for missing in (
        "smtp_host",
        "letter_encryption_key",
        "service_token_url",
        "service_client_secret",
    ):
        with pytest.raises(ValidationError, match=missing.upper()):
            NotificationsSettings(**{**complete, missing: None})
    with pytest.raises(ValidationError, match="development LETTER_ENCRYPTION_KEY"):
        NotificationsSettings(**{**complete, "letter_encryption_key": DEVELOPMENT_LETTER_KEY})
    with pytest.raises(ValidationError, match="32 bytes"):
        NotificationsSettings(letter_encryption_key="dG9vIHNob3J0")
