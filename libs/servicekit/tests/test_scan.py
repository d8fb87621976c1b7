"""The scanner the erasure and leak tests rely on finds values wherever they hide."""

from __future__ import annotations

import uuid
from datetime import date

from servicekit.testing.scan import date_notations, found_in, scan

NEEDLES = {"name": "Vlaskampqz", "bsn": "999990019", "birth date": "2012-04-07"}


def test_values_are_found_at_any_depth_in_keys_bytes_and_any_case():
    assert found_in({"a": [{"b": ("x", "VLASKAMPQZ jr")}]}, NEEDLES) == {"name"}
    assert found_in({"999990019": 1}, NEEDLES) == {"bsn"}
    assert found_in({"pdf": b"\x00\xffBSN 999990019\x00"}, NEEDLES) == {"bsn"}
    assert found_in({"pdf": "Vlaskampqz".encode("utf-16-le")}, NEEDLES) == {"name"}
    assert found_in({"id": uuid.uuid4(), "at": date(2012, 4, 7)}, NEEDLES) == {"birth date"}
    assert found_in({"text": "Vlaskamp qz", "n": 99999001}, NEEDLES) == set()


def test_a_birth_date_is_looked_for_as_people_and_software_write_it():
    notations = date_notations(date(2012, 4, 7))
    for written in (
        "2012-04-07",
        "07-04-2012",
        "7-4-2012",
        "07/04/2012",
        "20120407",
        "7 april 2012",
    ):
        assert written in notations


def test_findings_say_where_and_what():
    (finding,) = scan([("db.persons", "p1", {"x": "vlaskampqz"})], NEEDLES)
    assert (finding.where, finding.record, finding.label) == ("db.persons", "p1", "name")
