"""The mayor's letter as PDF (fpdf2): Dutch text, addressed to the youth and the parent(s).

The wording is a Jinja2 template (``templates/letter/mayor-letter.txt.j2``);
this module lays it out on A4 with the address block, the date, the
reference, the worker's contact details and the closing. With
``LETTER_FONT_FILE`` (a TrueType font) every name prints as written; without
it the PDF core font is used and letters outside Latin-1 are simplified
("Łukasz" prints as "Lukasz"): set a font in production.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

from fpdf import FPDF
from jinja2 import Environment, PackageLoader, StrictUndefined

from notifications_service.domain.letters import LetterFacts, dutch_date

SUBJECT = "Uitnodiging voor hulp van het jongerenwerk"
TRANSLITERATE = {"\u0141": "L", "\u0142": "l", "\u0110": "D", "\u0111": "d", "\u0131": "i"}


class LetterPdf:
    def __init__(self, font_file: Path | None = None, bold_font_file: Path | None = None) -> None:
        self._font_file = font_file
        self._bold_font_file = bold_font_file or font_file
        env = Environment(
            loader=PackageLoader("notifications_service", "templates/letter"),
            autoescape=False,  # plain text for the PDF, never HTML
            undefined=StrictUndefined,
        )
        self._body = env.get_template("mayor-letter.txt.j2")

    def paragraphs(self, facts: LetterFacts) -> list[str]:
        text = self._body.render(
            to_youth=facts.to_youth,
            to_parents=facts.to_parents,
            youth_name=facts.youth.full,
            municipality=facts.municipality,
            worker_name=facts.worker.name,
        )
        return [" ".join(p.split()) for p in text.split("\n\n") if p.strip()]

    def render(self, facts: LetterFacts) -> bytes:
        pdf = FPDF(format="A4", unit="mm")
        pdf.set_margins(25, 20, 25)
        pdf.set_auto_page_break(auto=True, margin=20)
        # No names in the document's metadata: only what any letter says.
        pdf.set_title("Brief van de burgemeester")
        pdf.set_author(f"Gemeente {facts.municipality}")
        pdf.set_creator("buurtsignaal")
        family = self._fonts(pdf)
        clean = self._clean if self._font_file is None else (lambda s: s)
        pdf.add_page()

        pdf.set_font(family, "B", 16)
        pdf.cell(0, 8, clean(f"Gemeente {facts.municipality}"), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(family, "", 11)
        pdf.cell(0, 6, "De burgemeester", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(12)

        for line in facts.addressed_to() + facts.address.lines():
            pdf.cell(0, 6, clean(line), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(10)

        pdf.cell(
            0,
            6,
            clean(f"{facts.municipality}, {dutch_date(facts.dated)}"),
            new_x="LMARGIN",
            new_y="NEXT",
        )
        pdf.cell(0, 6, f"Kenmerk: {facts.reference}", new_x="LMARGIN", new_y="NEXT")
        pdf.cell(0, 6, f"Onderwerp: {SUBJECT}", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(8)

        pdf.multi_cell(0, 6, clean(facts.salutation()), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(3)
        for paragraph in self.paragraphs(facts):
            pdf.multi_cell(0, 6, clean(paragraph), new_x="LMARGIN", new_y="NEXT")
            pdf.ln(3)

        contact = [facts.worker.name]
        if facts.worker.phone:
            contact.append(f"Telefoon: {facts.worker.phone}")
        if facts.worker.email:
            contact.append(f"E-mail: {facts.worker.email}")
        pdf.set_x(35)
        pdf.multi_cell(0, 6, clean("\n".join(contact)), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(8)

        pdf.cell(0, 6, "Met vriendelijke groet,", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(14)
        pdf.cell(
            0, 6, clean(f"De burgemeester van {facts.municipality}"), new_x="LMARGIN", new_y="NEXT"
        )
        return bytes(pdf.output())

    def _fonts(self, pdf: FPDF) -> str:
        if self._font_file is None:
            return "Helvetica"
        pdf.add_font("Letter", "", str(self._font_file))
        pdf.add_font("Letter", "B", str(self._bold_font_file))
        return "Letter"

    @staticmethod
    def _clean(text: str) -> str:
        """Fit text to the core font (Latin-1): strip accents only where Latin-1 has none."""
        out = []
        for char in text:
            try:
                char.encode("latin-1")
            except UnicodeEncodeError:
                char = TRANSLITERATE.get(char) or "".join(
                    c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c)
                )
                char = char.encode("latin-1", "replace").decode("latin-1")
            out.append(char)
        return "".join(out)
