"""Erase a person everywhere through the erasure API: ``signals-erase``.

    signals-erase --ground objection --reference AVG-2026-0042 < person.json
    signals-erase --file person.json --ground objection       # SIGNALS_URL, SIGNALS_TOKEN

The person is read as JSON (``{"bsn": "..."}``, or ``given_name``, ``family_name``,
``date_of_birth``, ``postcode``, ``house_number``) from a file or standard input,
never from the command line: arguments end up in shell histories and process
lists. The token must carry the admin role.

Like the CSV import it goes through the API, not the database: the same checks,
audit records, events and authorisation, and no keys on the operator's machine.
The request is sent with an ``Idempotency-Key`` (printed; pass it again with
``--idempotency-key`` to retry safely after a timeout). Exit code 0 when erased,
1 when nothing is held about the person, 2 when it could not be done.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import uuid
from pathlib import Path
from typing import Any, TextIO

import httpx


def erase(
    client: httpx.Client,
    person: dict[str, Any],
    ground: str,
    reference: str | None,
    idempotency_key: str,
) -> httpx.Response:
    body = {"person": person, "ground": ground, "reference": reference}
    return client.post(
        "/api/v1/persons/erasures", json=body, headers={"Idempotency-Key": idempotency_key}
    )


def read_person(source: TextIO) -> dict[str, Any]:
    person = json.load(source)
    if not isinstance(person, dict):
        raise ValueError("the person must be a JSON object")
    return person


def main(argv: list[str] | None = None, stdin: TextIO | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="signals-erase",
        description="Erase a person from every buurtsignaal service (AVG art. 17).",
    )
    parser.add_argument("--file", type=Path, help="the person as JSON (default: standard input)")
    parser.add_argument(
        "--ground",
        required=True,
        help="no-longer-necessary, consent-withdrawn, objection, unlawful-processing, "
        "legal-obligation or court-order",
    )
    parser.add_argument("--reference", help="the erasure request's own reference (a code)")
    parser.add_argument("--idempotency-key", default=None, help="to retry an earlier run")
    parser.add_argument("--url", default=os.environ.get("SIGNALS_URL", "http://127.0.0.1:8001"))
    parser.add_argument("--token", default=os.environ.get("SIGNALS_TOKEN"), help="an admin token")
    args = parser.parse_args(argv)
    if not args.token:
        parser.error("a token is needed: --token or SIGNALS_TOKEN")
    try:
        if args.file:
            with args.file.open(encoding="utf-8") as source:
                person = read_person(source)
        else:
            person = read_person(stdin or sys.stdin)
    except (OSError, ValueError) as error:
        print(f"could not read the person: {error}", file=sys.stderr)
        return 2
    key = args.idempotency_key or str(uuid.uuid4())
    headers = {"Authorization": f"Bearer {args.token}"}
    try:
        with httpx.Client(base_url=args.url, headers=headers, timeout=60) as client:
            response = erase(client, person, args.ground, args.reference, key)
    except httpx.HTTPError as error:
        print(
            f"erasure not confirmed ({type(error).__name__}); retry with --idempotency-key {key}",
            file=sys.stderr,
        )
        return 2
    if response.status_code == 201:
        done = response.json()
        print(
            f"erased: erasure {done['erasure_id']} at {done['erased_at']}, "
            f"{done['signals_removed']} signals; every service is told (idempotency key {key})"
        )
        return 0
    if response.status_code == 404:
        print("nothing is held about this person (unknown, or erased before)")
        return 1
    problem = response.json() if response.content else {}
    print(f"refused ({response.status_code}): {problem.get('detail', '')}", file=sys.stderr)
    for error in problem.get("errors", []):
        print(f"  {error['field']}: {error['message']}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
