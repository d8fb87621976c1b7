"""The README shows the transition table the code enforces."""

from __future__ import annotations

import re
from pathlib import Path

from cases_service.domain.lifecycle import markdown_table

README = Path(__file__).resolve().parents[3] / "README.md"


def test_the_readme_shows_the_transition_table_of_the_code():
    found = re.search(
        r"<!-- transitions:start[^>]*-->\n(.*?)\n<!-- transitions:end -->", README.read_text(), re.S
    )
    assert found, "the README has no transition table markers"
    assert found.group(1) == markdown_table()
