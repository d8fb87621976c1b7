"""What a notification says, in Dutch, from Jinja2 templates: links and codes, never personal data.

Each topic has a template in ``templates/email/<topic>.j2`` with two blocks,
``subject`` (also the in-app title) and ``message``; the text and HTML e-mails
wrap the message in ``_layout.txt.j2`` and ``_layout.html.j2``. The context
holds only codes of the event, their Dutch names and a link.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from buurtsignaal_contracts.codes import (
    CaseOutcome,
    DeadlineKind,
    LetterAnswer,
    Priority,
    Programme,
    ScreeningOutcome,
)
from notifications_service.domain.letters import FailureReason, dutch_date
from notifications_service.domain.routing import Notice
from servicekit.areas import AreaConfig

PROGRAMME_NAMES_NL = {
    Programme.EARLY_SIGNALLING: "Vroegsignalering",
    Programme.NEIGHBOURHOOD_TEAM: "Wijkondersteuningsteam",
    Programme.INTENSIVE_YOUTH_WORK: "Intensief jongerenwerk",
    Programme.TRUANCY_TASKFORCE: "Taskforce Thuiszitters",
    Programme.CITYTRAINERS: "Citytrainers",
}

DEADLINE_NAMES_NL = {
    DeadlineKind.FIRST_CONTACT: "het eerste contact",
    DeadlineKind.SCREENING: "de screening",
    DeadlineKind.LETTER_DELIVERED: "het bezorgen van de brief van de burgemeester",
    DeadlineKind.LETTER_ANSWER: "het antwoord op de brief van de burgemeester",
    DeadlineKind.TRUANCY_INVESTIGATION: "het verzuimonderzoek",
}

OUTCOME_NAMES_NL = {
    ScreeningOutcome.START_TRAJECTORY: "traject starten",
    ScreeningOutcome.REFER_TO_CARE: "doorverwijzen naar zorg",
    ScreeningOutcome.NO_FURTHER_ACTION: "geen verdere actie",
    CaseOutcome.RESOLVED: "opgelost",
    CaseOutcome.REFERRED_TO_CARE: "doorverwezen naar zorg",
    CaseOutcome.REFERRED_TO_SAFETY_HOUSE: "doorverwezen naar het Veiligheidshuis",
    CaseOutcome.DECLINED_HELP: "hulp geweigerd",
    CaseOutcome.MOVED_AWAY: "verhuisd",
    CaseOutcome.NO_CONCERN: "geen zorg",
}

ANSWER_NAMES_NL = {
    LetterAnswer.ACCEPTS_HELP: "neemt de hulp aan",
    LetterAnswer.DECLINES: "weigert de hulp",
}

FAILURE_NAMES_NL = {
    FailureReason.PERSON_UNKNOWN: "de persoon is niet (meer) bekend in de signalenregistratie",
    FailureReason.SIGNALS_UNAVAILABLE: "de naam- en adresgegevens waren niet op te halen",
}


@dataclass(frozen=True)
class Rendered:
    title: str
    message: str
    text: str
    html: str


class Messages:
    def __init__(self, areas: AreaConfig, app_base_url: str) -> None:
        self._areas = areas
        self._base_url = app_base_url.rstrip("/")
        self._env = Environment(
            loader=PackageLoader("notifications_service", "templates/email"),
            autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False),
            undefined=StrictUndefined,
            keep_trailing_newline=True,
        )

    def url(self, link: str) -> str:
        return f"{self._base_url}{link}"

    def render(self, notice: Notice) -> Rendered:
        context = self._context(notice)
        template = self._env.get_template(f"{notice.topic.value}.j2")
        blocks = template.new_context(context)
        title = _squash("".join(template.blocks["subject"](blocks)))
        message = _squash("".join(template.blocks["message"](blocks)))
        layout = {"title": title, "message": message, "url": context["url"]}
        text = self._env.get_template("_layout.txt.j2").render(layout)
        html = self._env.get_template("_layout.html.j2").render(layout)
        return Rendered(title, message, text, html)

    def _context(self, notice: Notice) -> dict[str, object]:
        facts = notice.facts
        context: dict[str, object] = {**facts, "url": self.url(notice.link)}
        if "programme" in facts:
            context["programme_name"] = PROGRAMME_NAMES_NL[Programme(facts["programme"])]
        if "district" in facts:
            context["district_name"] = next(
                (d.name for d in self._areas.districts if d.code == facts["district"]),
                facts["district"],
            )
        if "team" in facts:
            context["team_name"] = next(
                (t.name for t in self._areas.teams if t.code == facts["team"]), facts["team"]
            )
        if "deadline" in facts:
            context["deadline_name"] = DEADLINE_NAMES_NL[DeadlineKind(facts["deadline"])]
        if "due_on" in facts:
            context["due_on_nl"] = dutch_date(date.fromisoformat(facts["due_on"]))
        if "outcome" in facts:
            context["outcome_name"] = _outcome_name(facts["outcome"])
        if "answer" in facts:
            context["answer_name"] = ANSWER_NAMES_NL[LetterAnswer(facts["answer"])]
        if "failure" in facts:
            context["failure_name"] = FAILURE_NAMES_NL[FailureReason(facts["failure"])]
        context.setdefault("priority", Priority.NORMAL.value)
        return context


def _outcome_name(code: str) -> str:
    for enum in (ScreeningOutcome, CaseOutcome):
        try:
            return OUTCOME_NAMES_NL[enum(code)]
        except ValueError:
            continue
    return code


def _squash(text: str) -> str:
    """Template whitespace to single spaces: titles and messages are one paragraph."""
    return " ".join(text.split())
