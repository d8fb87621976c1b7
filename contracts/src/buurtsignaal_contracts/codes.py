"""Code lists shared by every event and API.

Events carry codes, never free text (DOMAIN.md, "informatie-arm"). Every string
in an event is one of these enumerations or one of the constrained identifier
types below, so a description or a name cannot slip into an event by accident:
``tests/test_privacy_by_type.py`` checks that no event property is an
unconstrained string.

Adding a value to an enumeration is backward compatible; removing or renaming
one is not and needs a new event version.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import StringConstraints


class Programme(StrEnum):
    EARLY_SIGNALLING = "early-signalling"
    NEIGHBOURHOOD_TEAM = "neighbourhood-team"
    INTENSIVE_YOUTH_WORK = "intensive-youth-work"
    TRUANCY_TASKFORCE = "truancy-taskforce"
    CITYTRAINERS = "citytrainers"


class SourceType(StrEnum):
    SCHOOL = "school"
    POLICE = "police"
    COMPULSORY_EDUCATION_OFFICER = "compulsory-education-officer"
    YOUTH_WORK = "youth-work"
    GP = "gp"
    SPORTS_CLUB = "sports-club"
    RESIDENT = "resident"
    PARENT = "parent"
    DISTRICT_MEETING = "district-meeting"
    PROFESSIONALS_MEETING = "professionals-meeting"
    OTHER = "other"


class Category(StrEnum):
    BEHAVIOUR_DISOBEDIENCE = "behaviour-disobedience"
    BEHAVIOUR_AGGRESSION = "behaviour-aggression"
    BEHAVIOUR_VANDALISM = "behaviour-vandalism"
    SCHOOL_ABSENCE_ABSOLUTE = "school-absence-absolute"
    SCHOOL_ABSENCE_RELATIVE = "school-absence-relative"
    POLICE_INCIDENT = "police-incident"
    YOUTH_NUISANCE = "youth-nuisance"
    LONELINESS = "loneliness"
    DEBTS_OR_POVERTY = "debts-or-poverty"
    PARENTING_CONCERN = "parenting-concern"
    OTHER = "other"


class AgeBand(StrEnum):
    """Age at the time of the signal, in the bands the programmes use.

    A band, not a birth date, is what may leave the signals service.
    """

    UNDER_5 = "0-4"
    AGE_5_TO_11 = "5-11"
    AGE_12_TO_17 = "12-17"
    AGE_18_TO_22 = "18-22"
    AGE_23_AND_OVER = "23+"


class CaseStatus(StrEnum):
    OPEN = "open"
    ASSIGNED = "assigned"
    SCREENING = "screening"
    ACTIVE = "active"
    ON_HOLD = "on-hold"
    LETTER_REQUESTED = "letter-requested"
    LETTER_DELIVERED = "letter-delivered"
    ANSWER_RECORDED = "answer-recorded"
    CLOSED = "closed"
    REOPENED = "reopened"


class CaseOutcome(StrEnum):
    RESOLVED = "resolved"
    REFERRED_TO_CARE = "referred-to-care"
    REFERRED_TO_SAFETY_HOUSE = "referred-to-safety-house"
    DECLINED_HELP = "declined-help"
    MOVED_AWAY = "moved-away"
    NO_CONCERN = "no-concern"


class ReopenReason(StrEnum):
    NEW_SIGNAL = "new-signal"
    SITUATION_WORSENED = "situation-worsened"
    CLOSED_IN_ERROR = "closed-in-error"
    OTHER = "other"


class Priority(StrEnum):
    NORMAL = "normal"
    HIGH = "high"


class ScreeningOutcome(StrEnum):
    START_TRAJECTORY = "start-trajectory"
    REFER_TO_CARE = "refer-to-care"
    NO_FURTHER_ACTION = "no-further-action"


class ContactKind(StrEnum):
    HOME_VISIT = "home-visit"
    PHONE = "phone"
    LETTER = "letter"
    EMAIL = "email"
    TEXT_MESSAGE = "text-message"
    CARD = "card"
    OTHER = "other"


class PartOfDay(StrEnum):
    MORNING = "morning"
    AFTERNOON = "afternoon"
    EVENING = "evening"
    NIGHT = "night"


class DeadlineKind(StrEnum):
    FIRST_CONTACT = "first-contact"
    SCREENING = "screening"
    LETTER_DELIVERED = "letter-delivered"
    LETTER_ANSWER = "letter-answer"
    TRUANCY_INVESTIGATION = "truancy-investigation"


class Escalation(StrEnum):
    WORKER = "worker"
    AREA_MANAGER = "area-manager"


class LetterDeliveryMethod(StrEnum):
    HOME_VISIT = "home-visit"
    POST = "post"


class LetterHandedTo(StrEnum):
    YOUTH = "youth"
    PARENT = "parent"
    YOUTH_AND_PARENT = "youth-and-parent"
    OTHER_HOUSEHOLD_MEMBER = "other-household-member"
    LETTERBOX = "letterbox"


class LetterAddressee(StrEnum):
    YOUTH = "youth"
    PARENTS = "parents"


class LetterAnswer(StrEnum):
    ACCEPTS_HELP = "accepts-help"
    DECLINES = "declines"


class WithdrawalReason(StrEnum):
    WRONGFUL = "wrongful"
    RESOLVED = "resolved"
    DUPLICATE = "duplicate"
    OTHER = "other"


class ExpiryReason(StrEnum):
    RETENTION_PERIOD = "retention-period"
    AGE_LIMIT = "age-limit"
    DECEASED = "deceased"


class NotificationChannel(StrEnum):
    IN_APP = "in-app"
    EMAIL = "email"
    WEBHOOK = "webhook"


class RecipientKind(StrEnum):
    USER = "user"
    TEAM = "team"
    PARTNER = "partner"


# Identifier types. Their patterns admit slugs, UUIDs and pseudonyms only:
# no spaces, so no sentence and no "first last" name fits.
Code = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")]
"""A configured code: district, team, organisation, instrument."""

UserRef = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")]
"""The ``sub`` of a staff member's token: an opaque account id, never a name."""

RecipientRef = UserRef
"""Whom a notification went to: an account id, a team code or a partner code."""

EventTypeName = Annotated[
    str, StringConstraints(pattern=r"^nl\.buurtsignaal\.[a-z]+\.[a-z-]+\.v[0-9]+$")
]
"""A CloudEvents ``type`` of this system."""

Pseudonym = Annotated[str, StringConstraints(pattern=r"^ps-[0-9a-f]{32}$")]
"""The keyed pseudonym of a person; the only person reference outside signals."""

Version = Annotated[str, StringConstraints(pattern=r"^[0-9]+(\.[0-9]+){0,2}$")]


class ProcessingAction(StrEnum):
    """What was done with personal data (NEN 7513 action; VNG *handeling*)."""

    READ = "read"
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"


class Confidentiality(StrEnum):
    """VNG verwerkingenlogging *vertrouwelijkheid*: who may see the processing record."""

    NORMAL = "normal"
    CONFIDENTIAL = "confidential"
    LIFTED = "lifted"


class DataCategory(StrEnum):
    """Kinds of personal data a processing touched (VNG *soort gegevens*)."""

    IDENTITY = "identity"  # names, BSN, date of birth
    ADDRESS = "address"
    GUARDIANS = "guardians"
    SIGNAL_CONTENT = "signal-content"  # the free-text description
    SIGNAL_FACTS = "signal-facts"  # category, source, dates, district
    MATCH = "match"  # which organisations are involved
    CASE_FACTS = "case-facts"  # status, team, worker, deadlines, outcome
    SCREENING = "screening"
    CONTACTS = "contacts"
    LETTER = "letter"  # the mayor's letter (names and address on it)
    DELIVERY = "delivery"
    NOTIFICATION = "notification"
    ACCESS_TRAIL = "access-trail"  # who processed the person's data


IsoDuration = Annotated[str, StringConstraints(pattern=r"^P[0-9]+[YMWD]$")]
"""A retention period as an ISO 8601 duration in one unit, e.g. ``P5Y``."""

RecordRef = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z-]*:[A-Za-z0-9._:/-]{1,160}$")]
"""What was processed: ``<kind>:<id>``, e.g. ``case:<uuid>`` or ``person:<pseudonym>``."""

RouteRef = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9/{}_.:-]{1,200}$")]
"""Where a processing came in: ``GET:/api/v1/cases/{case_id}``, ``event:<key>``, ``job:<x>``."""
