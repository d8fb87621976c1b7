"""Import signals from a CSV file through the batch API: ``signals-import-csv FILE``.

    signals-import-csv signals.csv --url http://127.0.0.1:8001 --token "$TOKEN"
    python -m signals_service.import_csv signals.csv          # SIGNALS_URL, SIGNALS_TOKEN

The file has a header row; the columns are the fields of ``POST /api/v1/signals``
with the person's fields flattened (see ``COLUMNS``); empty cells are absent.
Good rows are imported, bad rows are listed with their row number (as a
spreadsheet shows the file: the header is row 1) and the reason, and the
command exits with 1 when any row was refused (2 when it had to stop).

Running the same file again imports nothing twice: every row is sent with an
``external_ref``, the partner's own column when the file has one, otherwise a
hash of the row's content, and the service stores a reference only once per
organisation. A row that was corrected is new content, so it is imported.

Why through the API and not straight into the database: the import then gets
exactly the checks, the audit records, the events and the authorisation of
every other intake (the token says which organisation reports), and the
machine that runs it needs a token, not the database password and the
encryption keys.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import hashlib
import json
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import httpx
from tqdm import tqdm

SIGNAL_COLUMNS = (
    "source_type",
    "category",
    "occurred_on",
    "district",
    "description",
    "suggested_programme",
)
PERSON_COLUMNS = (
    "bsn",
    "given_name",
    "family_name",
    "date_of_birth",
    "postcode",
    "house_number",
    "street",
    "city",
)
MAX_GUARDIANS = 2
GUARDIAN_COLUMNS = tuple(
    f"guardian_{n}_{part}" for n in range(1, MAX_GUARDIANS + 1) for part in ("given", "family")
)
COLUMNS = (*SIGNAL_COLUMNS, *PERSON_COLUMNS, *GUARDIAN_COLUMNS, "external_ref")
REQUIRED_COLUMNS = ("source_type", "category", "occurred_on", "date_of_birth")

ATTEMPTS = 4


class ImportAborted(Exception):
    """The import cannot go on (unusable file, no access, the service unreachable)."""


@dataclass(frozen=True)
class BadRow:
    row: int
    field: str
    reason: str


@dataclass
class ImportReport:
    rows: int = 0
    created: int = 0
    duplicates: int = 0
    bad_rows: list[BadRow] = field(default_factory=list)

    @property
    def rejected_rows(self) -> int:
        return len({b.row for b in self.bad_rows})


@dataclass(frozen=True)
class Row:
    number: int  # as a spreadsheet shows it: the header is row 1
    body: dict[str, Any] | None  # None: the row could not be read into a signal
    problem: str | None = None


def read_rows(handle: TextIO, delimiter: str = ",") -> Iterator[Row]:
    """The data rows, numbered as a spreadsheet numbers them (the header is row 1).

    A record counts as one row even when a quoted cell spans several lines; a
    blank line counts as a row too (and is skipped), as a spreadsheet shows it.
    """
    records = csv.reader(handle, delimiter=delimiter)
    header = [h.strip() for h in next(records, [])]
    unknown = [h for h in header if h not in COLUMNS]
    if unknown:
        raise ImportAborted(f"unknown columns: {', '.join(unknown)}; known: {', '.join(COLUMNS)}")
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise ImportAborted(f"missing columns: {', '.join(missing)}")
    for number, record in enumerate(records, start=2):
        if not any(cell.strip() for cell in record):
            continue
        if len(record) != len(header):
            problem = f"has {len(record)} cells; the header has {len(header)}"
            yield Row(number, None, problem)
            continue
        cells = {k: v.strip() for k, v in zip(header, record, strict=True) if v.strip()}
        yield Row(number, signal_body(cells))


def signal_body(cells: dict[str, str]) -> dict[str, Any]:
    """One row as a batch item; the reference is the row's own or a hash of its content."""
    body: dict[str, Any] = {k: cells[k] for k in SIGNAL_COLUMNS if k in cells}
    person: dict[str, Any] = {k: cells[k] for k in PERSON_COLUMNS if k in cells}
    guardians = []
    for n in range(1, MAX_GUARDIANS + 1):
        given, family = cells.get(f"guardian_{n}_given"), cells.get(f"guardian_{n}_family")
        if given or family:
            guardians.append({"given_name": given or "", "family_name": family or ""})
    if guardians:
        person["guardians"] = guardians
    body["person"] = person
    content = json.dumps(body, sort_keys=True, ensure_ascii=False).encode()
    body["external_ref"] = cells.get("external_ref") or (
        "csv-" + hashlib.sha256(content).hexdigest()[:40]
    )
    return body


async def import_file(
    path: Path,
    client: httpx.AsyncClient,
    *,
    batch_size: int = 100,
    delimiter: str = ",",
    progress: bool = True,
) -> ImportReport:
    """Send the file's rows in batches; the client carries the base URL and the token."""
    report = ImportReport()
    with path.open(newline="", encoding="utf-8-sig") as handle:
        total = max(sum(1 for _ in csv.reader(handle, delimiter=delimiter)) - 1, 0)
        handle.seek(0)
        with tqdm(total=total, unit="row", disable=not progress, file=sys.stderr) as bar:
            pending: list[Row] = []
            for row in read_rows(handle, delimiter):
                report.rows += 1
                if row.body is None:
                    report.bad_rows.append(BadRow(row.number, "row", row.problem or "unreadable"))
                    bar.update(1)
                    continue
                pending.append(row)
                if len(pending) == batch_size:
                    await _send(client, pending, report)
                    bar.update(len(pending))
                    pending = []
            if pending:
                await _send(client, pending, report)
                bar.update(len(pending))
    report.bad_rows.sort(key=lambda b: b.row)
    return report


async def _send(client: httpx.AsyncClient, rows: list[Row], report: ImportReport) -> None:
    payload = {"signals": [r.body for r in rows]}
    response = await _post_with_retries(client, payload)
    for result in response["results"]:
        row = rows[result["index"]]
        if result["result"] == "created":
            report.created += 1
        elif result["result"] == "duplicate":
            report.duplicates += 1
        else:
            for error in result["errors"]:
                report.bad_rows.append(BadRow(row.number, error["field"], error["message"]))


async def _post_with_retries(client: httpx.AsyncClient, payload: dict[str, Any]) -> Any:
    """Resending a batch is safe (every row has its reference), so transient failures retry."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            response = await client.post("/api/v1/signals/batch", json=payload)
        except httpx.TransportError as error:
            if attempt == ATTEMPTS:
                raise ImportAborted(f"the signals service cannot be reached: {error}") from error
        else:
            if response.status_code == 200:
                return response.json()
            if response.status_code in (401, 403):
                raise ImportAborted(f"not allowed ({response.status_code}): {_detail(response)}")
            if response.status_code < 500 or attempt == ATTEMPTS:
                raise ImportAborted(
                    f"the service refused a batch ({response.status_code}): {_detail(response)}"
                )
        await asyncio.sleep(0.5 * 2**attempt)
    raise AssertionError("unreachable")


def _detail(response: httpx.Response) -> str:
    try:
        return str(response.json().get("detail", response.text))
    except ValueError:
        return response.text[:200]


def write_errors(path: Path, bad_rows: list[BadRow]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["row", "field", "reason"])
        writer.writerows([b.row, b.field, b.reason] for b in bad_rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="signals-import-csv",
        description="Import signals from a CSV file through the signals service's batch API.",
        epilog="Columns: " + ", ".join(COLUMNS),
    )
    parser.add_argument("file", type=Path)
    parser.add_argument("--url", default=os.environ.get("SIGNALS_URL", "http://127.0.0.1:8001"))
    parser.add_argument(
        "--token",
        default=os.environ.get("SIGNALS_TOKEN"),
        help="bearer token of the reporting organisation (or SIGNALS_TOKEN)",
    )
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--delimiter", default=",")
    parser.add_argument("--errors-csv", type=Path, help="also write the bad rows to this file")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    if not args.token:
        parser.error("a token is needed: --token or SIGNALS_TOKEN")

    async def run() -> ImportReport:
        headers = {"Authorization": f"Bearer {args.token}"}
        async with httpx.AsyncClient(base_url=args.url, headers=headers, timeout=60) as client:
            return await import_file(
                args.file,
                client,
                batch_size=args.batch_size,
                delimiter=args.delimiter,
                progress=not args.no_progress,
            )

    try:
        report = asyncio.run(run())
    except (ImportAborted, OSError, UnicodeDecodeError) as error:
        print(f"import stopped: {error}", file=sys.stderr)
        print("rows sent before this are stored; running the file again is safe", file=sys.stderr)
        return 2
    print(
        f"{report.rows} rows: {report.created} imported, {report.duplicates} imported before, "
        f"{report.rejected_rows} refused"
    )
    for bad in report.bad_rows:
        print(f"row {bad.row}: {bad.field}: {bad.reason}")
    if args.errors_csv and report.bad_rows:
        write_errors(args.errors_csv, report.bad_rows)
    return 1 if report.bad_rows else 0


if __name__ == "__main__":
    sys.exit(main())
