"""Bulk intake: the batch endpoint and the CSV import command (through the API)."""

from __future__ import annotations

import csv
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest

from servicekit.testing import token_for
from signals_service.import_csv import ImportAborted, import_file, main
from signals_service.testing import committed_events, signal_body, synthetic_bsn, youth

pytestmark = pytest.mark.integration

SCHOOL = token_for("r-school", "reporter", org="obs-de-singel")
POLICE = token_for("p-wijkagent", "reporter", org="politie-schiedam")
YESTERDAY = (date.today() - timedelta(days=1)).isoformat()
TEN_YEARS_OLD = (date.today() - timedelta(days=10 * 365 + 40)).isoformat()


def item(ref: str, person: dict | None = None, **changes) -> dict:
    return {**signal_body(person or youth(), **changes), "external_ref": ref}


async def batch(service, items: list[dict], headers=SCHOOL) -> httpx.Response:
    return await service.client.post(
        "/api/v1/signals/batch", json={"signals": items}, headers=headers
    )


async def test_a_batch_stores_the_good_items_and_names_the_bad_ones(signals):
    items = [
        item("leerling-1"),
        item("leerling-2", youth(bsn="999990018")),  # fails the 11-test
        item("leerling-3", youth(bsn=synthetic_bsn(3)), suggested_programme="intensive-youth-work"),
        {**item("leerling-4"), "category": "gossip"},
        item("leerling-5", youth(bsn=synthetic_bsn(5))),
        {k: v for k, v in item("x").items() if k != "external_ref"},
    ]
    response = await batch(signals, items)
    assert response.status_code == 200, response.text
    result = response.json()
    assert (result["created"], result["duplicates"], result["rejected"]) == (2, 0, 4)
    by_index = {r["index"]: r for r in result["results"]}
    assert [by_index[i]["result"] for i in range(6)] == [
        "created",
        "rejected",
        "rejected",
        "rejected",
        "created",
        "rejected",
    ]
    assert [e["field"] for e in by_index[1]["errors"]] == ["person.bsn"]
    assert [e["field"] for e in by_index[2]["errors"]] == ["suggested_programme"]
    assert [e["field"] for e in by_index[3]["errors"]] == ["category"]
    assert [e["field"] for e in by_index[5]["errors"]] == ["external_ref"]
    assert "999990018" not in response.text, "submitted values are never echoed"
    assert await signals.db.signals.count_documents({}) == 2
    assert len(await committed_events(signals, "signal-received")) == 2
    # Each stored item is an intake of personal data; the refused ones stored nothing.
    audit = await signals.db.audit_log.find().to_list()
    assert {(r["action"], r["activity"], r["user"], r["route"]) for r in audit} == {
        ("create", "signal-intake", "r-school", "POST:/api/v1/signals/batch")
    }
    assert sorted(r["record"] for r in audit) == sorted(
        f"signal:{by_index[i]['id']}" for i in (0, 4)
    )


async def test_a_resent_batch_stores_nothing_twice_and_references_are_per_organisation(signals):
    items = [item("leerling-1"), item("leerling-2", youth(bsn=synthetic_bsn(2)))]
    first = (await batch(signals, items)).json()
    again = (await batch(signals, items)).json()
    assert (again["created"], again["duplicates"]) == (0, 2)
    assert [r["id"] for r in again["results"]] == [r["id"] for r in first["results"]]
    police = (await batch(signals, [item("leerling-1", source_type="police")], POLICE)).json()
    assert police["created"] == 1, "another organisation's reference is another signal"
    assert await signals.db.signals.count_documents({}) == 3
    stored = await signals.db.signals.find_one({"_id": first["results"][0]["id"]})
    assert "leerling" not in str(stored["intake_key"]), "the reference is kept hashed"


async def test_the_same_reference_twice_in_one_batch_is_stored_once(signals):
    result = (await batch(signals, [item("dubbel"), item("dubbel")])).json()
    assert sorted(r["result"] for r in result["results"]) == ["created", "duplicate"]
    assert await signals.db.signals.count_documents({}) == 1


async def test_a_batch_is_limited_and_needs_an_organisation(start_signals):
    async with start_signals(batch_max_items=2) as signals:
        too_long = await batch(signals, [item(f"r-{n}") for n in range(3)])
        assert too_long.status_code == 422 and too_long.json()["errors"][0]["field"] == "signals"
        no_org = await batch(signals, [item("r-1")], token_for("r-x", "reporter"))
        assert no_org.status_code == 403
        assert (await batch(signals, [])).status_code == 422
        assert await signals.db.signals.count_documents({}) == 0


# --- the CSV command ---------------------------------------------------------------

HEADER = [
    "external_ref",
    "source_type",
    "category",
    "occurred_on",
    "bsn",
    "given_name",
    "family_name",
    "date_of_birth",
    "postcode",
    "house_number",
    "district",
    "description",
    "guardian_1_given",
    "guardian_1_family",
]


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


def good_row(bsn: str, ref: str = "") -> list[str]:
    return [
        ref,
        "school",
        "school-absence-relative",
        YESTERDAY,
        bsn,
        "",
        "",
        TEN_YEARS_OLD,
        "3117 AB",
        "3",
        "",
        "Synthetisch: vaak afwezig, meerdere regels\nlang.",
        "Eva",
        "Voorbeeld",
    ]


def by_name_row() -> list[str]:
    return [
        "",
        "youth-work",
        "youth-nuisance",
        YESTERDAY,
        "",
        "Noa",
        "Voorbeeld",
        TEN_YEARS_OLD,
        "3124 XY",
        "8",
        "",
        "",
        "",
        "",
    ]


@pytest.fixture
def school_client(signals):
    signals.client.headers.update(SCHOOL)
    return signals.client


async def test_a_csv_file_imports_its_good_rows_reports_bad_ones_and_a_rerun_adds_nothing(
    signals, school_client, tmp_path
):
    path = write_csv(
        tmp_path / "signalen.csv",
        [
            good_row(synthetic_bsn(1)),  # row 2
            good_row("999990018"),  # row 3: fails the 11-test
            by_name_row(),  # row 4: no BSN, name and address instead
            [
                "",
                "school",
                "behaviour-aggression",
                "2099-01-01",
                synthetic_bsn(4),
                "",
                "",
                TEN_YEARS_OLD,
                "3117 AB",
                "1",
                "",
                "",
                "",
                "",
            ],  # row 5
            [
                "",
                "school",
                "behaviour-aggression",
                YESTERDAY,
                synthetic_bsn(5),
                "",
                "",
                TEN_YEARS_OLD,
                "1012 AB",
                "1",
                "",
                "",
                "",
                "",
            ],  # row 6: outside Schiedam, no district
            ["too", "few"],  # row 7
            good_row(synthetic_bsn(8), ref="leerlingnummer-8"),  # row 8
        ],
    )
    report = await import_file(path, school_client, batch_size=3, progress=False)
    assert (report.rows, report.created, report.duplicates) == (7, 3, 0)
    assert [(b.row, b.field) for b in report.bad_rows] == [
        (3, "person.bsn"),
        (5, "occurred_on"),
        (6, "district"),
        (7, "row"),
    ]
    assert await signals.db.signals.count_documents({}) == 3
    noa = await signals.db.signals.find_one({"source_type": "youth-work"})
    assert noa["district"] == "noord"

    rerun = await import_file(path, school_client, batch_size=2, progress=False)
    assert (rerun.created, rerun.duplicates, rerun.rejected_rows) == (0, 3, 4)
    assert await signals.db.signals.count_documents({}) == 3

    # The bad rows corrected: only they are new.
    rows = list(csv.reader(path.open(encoding="utf-8")))
    rows[2][4] = synthetic_bsn(2)
    rows[4][3] = YESTERDAY
    rows[5][10] = "noord"
    del rows[6]
    write_csv(path, rows[1:])
    fixed = await import_file(path, school_client, progress=False)
    assert (fixed.created, fixed.duplicates, fixed.bad_rows) == (3, 3, [])
    assert await signals.db.signals.count_documents({}) == 6


async def test_a_file_with_unknown_columns_is_refused_before_anything_is_sent(
    signals, school_client, tmp_path
):
    path = tmp_path / "fout.csv"
    path.write_text("source_type,category,occured_on,date_of_birth\n", encoding="utf-8")
    with pytest.raises(ImportAborted, match="occured_on"):
        await import_file(path, school_client, progress=False)


def test_the_command_needs_a_token_and_says_so(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("SIGNALS_TOKEN", raising=False)
    with pytest.raises(SystemExit) as stopped:
        main([str(write_csv(tmp_path / "x.csv", []))])
    assert stopped.value.code == 2
    assert "token" in capsys.readouterr().err


def test_the_command_stops_cleanly_when_the_service_is_away(tmp_path, capsys):
    path = write_csv(tmp_path / "x.csv", [good_row(synthetic_bsn(1))])
    code = main([str(path), "--url", "http://127.0.0.1:9", "--token", "t", "--no-progress"])
    assert code == 2
    assert "running the file again is safe" in capsys.readouterr().err
