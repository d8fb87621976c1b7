"""``buurtsignaal``: the developer and operator command.

buurtsignaal token --sub w-1 --role worker --team wot-west   mint a development token
buurtsignaal demo [--once] [--signals N]                      run the system with the scenario
buurtsignaal asyncapi [--check]                               write contracts/asyncapi.yaml
buurtsignaal dlq list --service cases                         show a service's dead letters
buurtsignaal dlq replay --service cases [--id ID ...]         send them back once fixed
"""

from __future__ import annotations

import argparse
import asyncio
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

    dlq = commands.add_parser("dlq", help="dead-letter queue operations")
    dlq.add_argument("action", choices=["list", "replay"])
    dlq.add_argument(
        "--service", required=True, choices=["signals", "cases", "notifications", "reporting"]
    )
    dlq.add_argument("--id", action="append", dest="ids", help="replay only these message ids")
    dlq.add_argument(
        "--amqp-url", default=os.environ.get("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
    )

    args = parser.parse_args(argv)
    handler = {"token": _token, "demo": _demo, "asyncapi": _asyncapi, "dlq": _dlq}[args.command]
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
        print(f"{len(letters)} dead letter(s) in {args.service}.dlq")
        for letter in letters:
            print(
                f"  {letter.message_id}  {letter.event_type}  reason={letter.reason}  "
                f"deliveries={letter.deliveries}  since={letter.first_death}"
            )
        return 0
    replayed = asyncio.run(replay_dead_letters(args.amqp_url, args.service, args.ids))
    print(f"replayed {len(replayed)} message(s) to the '{args.service}' queue")
    for message_id in replayed:
        print(f"  {message_id}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
