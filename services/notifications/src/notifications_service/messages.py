"""What a notification says: Dutch titles per topic, with a link and codes only."""

from __future__ import annotations

from buurtsignaal_contracts.codes import Programme

PROGRAMME_NAMES_NL = {
    Programme.EARLY_SIGNALLING: "Vroegsignalering",
    Programme.NEIGHBOURHOOD_TEAM: "Wijkondersteuningsteam",
    Programme.INTENSIVE_YOUTH_WORK: "Intensief jongerenwerk",
    Programme.TRUANCY_TASKFORCE: "Taskforce Thuiszitters",
    Programme.CITYTRAINERS: "Citytrainers",
}


def case_opened_title(programme: Programme, district: str) -> str:
    return f"Nieuwe casus ({PROGRAMME_NAMES_NL[programme]}, wijk {district})"


def case_link(case_id: str) -> str:
    return f"/cases/{case_id}"
