"""``buurtsignaal``: the developer and operator command.

buurtsignaal token --sub w-1 --role worker --team wot-west   mint a development token
buurtsignaal demo [--once] [--signals N]                      run the system with the scenario
buurtsignaal asyncapi [--check]                               write contracts/asyncapi.yaml
buurtsignaal dlq list --service cases [--json]                show a service's dead letters
buurtsignaal dlq replay --service cases (--all | --id ID ...) send them back once fixed
buurtsignaal audit verify --service signals                   verify a service's audit hash chain
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import sys
from pathlib import Path

from buurtsignaal_contracts.published import CONTRACTS_DIR


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="buurtsignaal",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)

    token = commands.add_parser("token", help="mint a development JWT")
    token.add_argument("--sub", required=True, help="account id")
    token.add_argument("--name", default="")
    token.add_argument("--role", action="append", required=True, dest="roles")
    token.add_argument("--team", action="append", default=[], dest="teams")
    token.add_argument("--org", default=None)
    token.add_argument("--hours", type=float, default=8)

    demo = commands.add_parser("demo", help="run the four services and play the scenario")
    demo.add_argument("--once", action="store_true", help="stop after the summary")
    demo.add_argument("--signals", type=int, default=40)
    demo.add_argument("--workdir", type=Path, default=Path(".run/demo"))

    asyncapi = commands.add_parser(
        "asyncapi", help="generate the AsyncAPI document and the README's event catalogue"
    )
    asyncapi.add_argument("--out", type=Path, default=CONTRACTS_DIR / "asyncapi.yaml")
    asyncapi.add_argument("--readme", type=Path, default=CONTRACTS_DIR.parent / "README.md")

    dlq = commands.add_parser(
        "dlq",
        help="dead-letter queue operations",
        description="list: what is in <service>.dlq, why and after how many deliveries, "
        "taking nothing. replay: send dead letters back to that service's own queue "
        "(never to the exchange), all of them or those with the given message ids.",
    )
    dlq.add_argument("action", choices=["list", "replay"])
    dlq.add_argument(
        "--service", required=True, choices=["signals", "cases", "notifications", "reporting"]
    )
    which = dlq.add_mutually_exclusive_group()
    which.add_argument("--id", action="append", dest="ids", help="replay this message id")
    which.add_argument("--all", action="store_true", help="replay every dead letter")
    dlq.add_argument("--json", action="store_true", help="list as JSON lines")
    dlq.add_argument(
        "--amqp-url", default=os.environ.get("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
    )

    audit = commands.add_parser("audit", help="audit log operations")
    audit.add_argument("action", choices=["verify"])
    audit.add_argument(
        "--service", required=True, choices=["signals", "cases", "notifications", "reporting"]
    )
    audit.add_argument(
        "--mongodb-url",
        default=os.environ.get("MONGODB_URL", "mongodb://127.0.0.1:27017/?directConnection=true"),
    )
    audit.add_argument(
        "--database", default=None, help="default: MONGODB_DATABASE or buurtsignaal_<service>"
    )

    args = parser.parse_args(argv)
    handler = {
        "token": _token,
        "demo": _demo,
        "asyncapi": _asyncapi,
        "dlq": _dlq,
        "audit": _audit,
    }[args.command]
    return handler(args)


def _token(args: argparse.Namespace) -> int:
    from servicekit.auth import mint_token
    from servicekit.settings import DEVELOPMENT_JWT_SECRET

    print(
        mint_token(
            secret=os.environ.get("AUTH_JWT_SECRET", DEVELOPMENT_JWT_SECRET),
            sub=args.sub,
            name=args.name,
            roles=args.roles,
            teams=args.teams,
            org=args.org,
            issuer=os.environ.get("AUTH_ISSUER", "urn:buurtsignaal:dev-issuer"),
            audience=os.environ.get("AUTH_AUDIENCE", "buurtsignaal"),
            ttl_seconds=int(args.hours * 3600),
        )
    )
    return 0


def _demo(args: argparse.Namespace) -> int:
    from servicekit.devstack.demo import run_demo

    return run_demo(once=args.once, signal_count=args.signals, workdir=args.workdir)


def _asyncapi(args: argparse.Namespace) -> int:
    from servicekit.asyncapi import build_asyncapi, render_asyncapi, service_definitions
    from servicekit.catalogue import update_readme

    definitions = service_definitions()
    args.out.write_text(render_asyncapi(build_asyncapi(definitions)))
    print(f"wrote {args.out}")
    if args.readme.exists() and update_readme(args.readme, definitions):
        print(f"updated the event catalogue and the authorisation matrix in {args.readme}")
    return 0


def _dlq(args: argparse.Namespace) -> int:
    from servicekit.deadletters import list_dead_letters, replay_dead_letters

    if args.action == "list":
        letters = asyncio.run(list_dead_letters(args.amqp_url, args.service))
        if args.json:
            for letter in letters:
                print(json.dumps(dataclasses.asdict(letter)))
            return 0
        print(f"{len(letters)} dead letter(s) in {args.service}.dlq")
        for letter in letters:
            deliveries = "more than the limit" if letter.deliveries is None else letter.deliveries
            print(
                f"  {letter.message_id}  {letter.event_type}\n"
                f"      {letter.reason} after {deliveries} deliveries, "
                f"at {letter.dead_lettered_at}; correlation id {letter.correlation_id}\n"
                f"      why: {letter.error}"
            )
        return 0
    if not (args.all or args.ids):
        print("say what to replay: --all, or --id MESSAGE_ID (repeatable)", file=sys.stderr)
        return 2
    replay = asyncio.run(replay_dead_letters(args.amqp_url, args.service, args.ids))
    print(f"replayed {len(replay.replayed)} message(s) to the '{args.service}' queue")
    for message_id in replay.replayed:
        print(f"  {message_id}")
    for message_id in replay.not_found:
        print(f"not in {args.service}.dlq: {message_id}", file=sys.stderr)
    return 1 if replay.not_found else 0


def _audit(args: argparse.Namespace) -> int:
    """Exit 0: the chain is intact; 1: it is broken (the first bad record is named);
    2: the database could not be read."""
    from pymongo.errors import PyMongoError

    from servicekit.audit import verify_chain
    from servicekit.mongo import Mongo

    database = args.database or os.environ.get("MONGODB_DATABASE") or f"buurtsignaal_{args.service}"

    async def verify() -> int:
        mongo = Mongo(args.mongodb_url, database, timeout_ms=5000, app_name="audit-verify")
        try:
            report = await verify_chain(mongo.db)
        finally:
            await mongo.close()
        print(
            f"audit chain of {args.service} ({database}): {report.checked} record(s) verified, "
            f"{report.unsealed} not sealed yet"
        )
        if report.broken is not None:
            where = f" (id {report.broken.record_id})" if report.broken.record_id else ""
            print(f"BROKEN at record {report.broken.seq}{where}: {report.broken.reason}")
            return 1
        print("intact")
        return 0

    try:
        return asyncio.run(verify())
    except PyMongoError as error:
        print(f"cannot read the audit log: {type(error).__name__}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
