"""Who hears of what, through which channel: the one table of the service.

| event                          | topic                 | in-app             | e-mail        |
|--------------------------------|-----------------------|--------------------|---------------|
| case-opened                    | case-opened           | the team           | team mailbox* |
| case-assigned                  | case-assigned         | the new worker     | the same      |
|                                | case-reassigned       | the previous one   | -             |
| signal-matched                 | signal-matched        | every professional | the same      |
|                                |                       | match coordinators | the same      |
| deadline-breached, worker      | deadline-breached     | worker, else team  | the same      |
| deadline-breached, area-manager| deadline-escalated    | the area manager   | the same      |
|                                |                       | the worker         | -             |
| screening-completed            | screening-completed   | the area manager   | the same      |
|                                |                       | the case's worker  | -             |
| mayor-letter-requested         | mayor-letter-ready    | requesting worker  | the same      |
|   (rendered / not possible)    | mayor-letter-failed   | requesting worker  | the same      |
| mayor-letter-answered          | mayor-letter-answered | worker, area mgr.  | -             |
| case-closed                    | case-closed           | the case's worker  | -             |

*) a team without a mailbox in the directory: each of its workers there.

Rules that hold for every row:
- nobody is told of their own action (the one who assigned, scored, closed...);
- "the case's worker" is the last worker the case was assigned to (learned from
  case-assigned); the worker named in the event wins when there is one;
- the area manager is the one the event names, else the team's in the area
  configuration;
- e-mail goes only to somebody in the staff directory with an address; who is
  not there is told in-app only;
- one recipient hears of one event once, whatever the number of roles they have.

What partner systems hear through webhooks is in :mod:`.webhooks`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from buurtsignaal_contracts.codes import Escalation, RecipientKind
from buurtsignaal_contracts.events import (
    CaseAssigned,
    CaseClosed,
    CaseFacts,
    CaseOpened,
    DeadlineBreached,
    MayorLetterAnswered,
    ScreeningCompleted,
    SignalMatched,
)
from notifications_service.directory import StaffDirectory
from servicekit.areas import AreaConfig


class Topic(StrEnum):
    CASE_OPENED = "case-opened"
    CASE_ASSIGNED = "case-assigned"
    CASE_REASSIGNED = "case-reassigned"
    SIGNAL_MATCHED = "signal-matched"
    DEADLINE_BREACHED = "deadline-breached"
    DEADLINE_ESCALATED = "deadline-escalated"
    SCREENING_COMPLETED = "screening-completed"
    MAYOR_LETTER_READY = "mayor-letter-ready"
    MAYOR_LETTER_FAILED = "mayor-letter-failed"
    MAYOR_LETTER_ANSWERED = "mayor-letter-answered"
    CASE_CLOSED = "case-closed"


@dataclass(frozen=True)
class Contact:
    """A professional to get in touch with (a match shows who else is involved)."""

    organisation: str
    account: str
    name: str | None = None
    email: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class Recipient:
    kind: RecipientKind
    ref: str
    email: str | None = None  # also by e-mail, to this address
    contacts: tuple[Contact, ...] = ()  # shown in-app only
    in_app: bool = True  # False: e-mail only (a team member, when the team has no mailbox)


@dataclass(frozen=True)
class Notice:
    """What one group of recipients is told of one event: a topic with codes and a link."""

    topic: Topic
    link: str
    facts: dict[str, str]
    recipients: tuple[Recipient, ...]
    case_id: str | None = None


@dataclass(frozen=True)
class People:
    """What the service knows of people, from its configuration and from events."""

    directory: StaffDirectory
    areas: AreaConfig
    case_worker: str | None = None  # the case's last assigned worker, learned from events

    def user(self, account: str, *, email: bool = True) -> Recipient:
        address = self.directory.email_of(account) if email else None
        return Recipient(RecipientKind.USER, account, address)

    def team(self, team: str) -> list[Recipient]:
        """The team's inbox with its mailbox; without a mailbox each worker of the team
        (from the directory) is mailed instead."""
        mailbox = self.directory.team_mailbox(team)
        recipients = [Recipient(RecipientKind.TEAM, team, mailbox)]
        if mailbox is None:
            recipients += [
                Recipient(RecipientKind.USER, m.account, m.email, in_app=False)
                for m in self.directory.members_of(team, "worker")
                if m.email
            ]
        return recipients

    def area_manager(self, team: str, named: str | None = None) -> str | None:
        if named:
            return named
        return next((t.area_manager for t in self.areas.teams if t.code == team), None)


@dataclass
class _Recipients:
    """Collects recipients once each, leaving out the actor."""

    actor: str | None = None
    items: list[Recipient] = field(default_factory=list)

    def add(self, recipient: Recipient | None) -> None:
        if recipient is None or (
            recipient.kind is RecipientKind.USER and recipient.ref == self.actor
        ):
            return
        if any(r.kind == recipient.kind and r.ref == recipient.ref for r in self.items):
            return
        self.items.append(recipient)

    def __call__(self) -> tuple[Recipient, ...]:
        return tuple(self.items)


def case_link(case_id: object) -> str:
    return f"/cases/{case_id}"


def _case_facts(event: CaseFacts) -> dict[str, str]:
    return {"programme": event.programme.value, "district": event.district, "team": event.team}


def case_opened(event: CaseOpened, people: People) -> list[Notice]:
    team = tuple(people.team(event.team))
    facts = {**_case_facts(event), "priority": event.priority.value}
    return [Notice(Topic.CASE_OPENED, case_link(event.case_id), facts, team, str(event.case_id))]


def case_assigned(event: CaseAssigned, people: People) -> list[Notice]:
    notices = []
    new = _Recipients(actor=event.assigned_by)
    new.add(people.user(event.worker))
    link, case_id = case_link(event.case_id), str(event.case_id)
    notices.append(Notice(Topic.CASE_ASSIGNED, link, _case_facts(event), new(), case_id))
    if event.previous_worker and event.previous_worker != event.worker:
        previous = _Recipients(actor=event.assigned_by)
        previous.add(people.user(event.previous_worker, email=False))
        notices.append(Notice(Topic.CASE_REASSIGNED, link, _case_facts(event), previous(), case_id))
    return [n for n in notices if n.recipients]


def signal_matched(event: SignalMatched, people: People) -> list[Notice]:
    """Everyone involved hears who else is: contact details only, never the content."""
    contacts = [_contact(p.organisation, p.professional, people) for p in event.participants]
    recipients = _Recipients()
    for participant in event.participants:
        others = tuple(c for c in contacts if c.account != participant.professional)
        user = people.user(participant.professional)
        recipients.add(Recipient(user.kind, user.ref, user.email, others))
    for coordinator in people.directory.match_coordinators:
        recipients.add(
            Recipient(RecipientKind.USER, coordinator.account, coordinator.email, tuple(contacts))
        )
    facts = {
        "organisations": ", ".join(sorted({p.organisation for p in event.participants})),
        "count": str(len({p.organisation for p in event.participants})),
        "household": "yes" if event.household else "no",
    }
    return [Notice(Topic.SIGNAL_MATCHED, f"/matches/{event.match_id}", facts, recipients())]


def _contact(organisation: str, account: str, people: People) -> Contact:
    member = people.directory.member(account)
    if member is None:
        return Contact(organisation, account)
    return Contact(organisation, account, member.name, member.email, member.phone)


def deadline_breached(event: DeadlineBreached, people: People) -> list[Notice]:
    facts = {
        **_case_facts(event),
        "deadline": event.deadline.value,
        "due_on": event.due_on.isoformat(),
    }
    link, case_id = case_link(event.case_id), str(event.case_id)
    worker = event.worker or people.case_worker
    if event.escalation is Escalation.WORKER:
        recipients = _Recipients()
        if worker:
            recipients.add(people.user(worker))
        else:  # nobody assigned yet: the whole team must act
            for recipient in people.team(event.team):
                recipients.add(recipient)
        return [Notice(Topic.DEADLINE_BREACHED, link, facts, recipients(), case_id)]
    recipients = _Recipients()
    manager = people.area_manager(event.team, event.area_manager)
    if manager:
        recipients.add(people.user(manager))
    if worker:
        recipients.add(people.user(worker, email=False))
    return [Notice(Topic.DEADLINE_ESCALATED, link, facts, recipients(), case_id)]


def screening_completed(event: ScreeningCompleted, people: People) -> list[Notice]:
    recipients = _Recipients(actor=event.completed_by)
    manager = people.area_manager(event.team)
    if manager:
        recipients.add(people.user(manager))
    if people.case_worker:
        recipients.add(people.user(people.case_worker, email=False))
    facts = {**_case_facts(event), "outcome": event.outcome.value}
    case_id = str(event.case_id)
    return [Notice(Topic.SCREENING_COMPLETED, case_link(case_id), facts, recipients(), case_id)]


def mayor_letter_outcome(
    topic: Topic,
    *,
    letter_id: str,
    case_id: str,
    worker: str,
    facts: dict[str, str],
    people: People,
) -> list[Notice]:
    """The requesting worker hears that the letter is ready to download, or could not be made."""
    recipients = _Recipients()
    recipients.add(people.user(worker))
    return [Notice(topic, f"/letters/{letter_id}", facts, recipients(), case_id)]


def mayor_letter_answered(event: MayorLetterAnswered, people: People) -> list[Notice]:
    recipients = _Recipients(actor=event.recorded_by)
    if people.case_worker:
        recipients.add(people.user(people.case_worker, email=False))
    manager = people.area_manager(event.team)
    if manager:
        recipients.add(people.user(manager, email=False))
    facts = {**_case_facts(event), "answer": event.answer.value}
    case_id = str(event.case_id)
    return [Notice(Topic.MAYOR_LETTER_ANSWERED, case_link(case_id), facts, recipients(), case_id)]


def case_closed(event: CaseClosed, people: People) -> list[Notice]:
    recipients = _Recipients(actor=event.closed_by)
    if people.case_worker:
        recipients.add(people.user(people.case_worker, email=False))
    facts = {**_case_facts(event), "outcome": event.outcome.value}
    case_id = str(event.case_id)
    return [Notice(Topic.CASE_CLOSED, case_link(case_id), facts, recipients(), case_id)]
