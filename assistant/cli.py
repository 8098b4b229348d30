"""The `assistant` command. `assistant --help` lists the subcommands; docs/operations.md explains them."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from pathlib import Path

from assistant.config import Settings, get_settings


def _db(settings: Settings):  # noqa: ANN202 - a Database; imported lazily to keep --help fast
    from assistant.store import Database

    return Database(settings.database_url)


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.store import upgrade_schema

    upgrade_schema(settings.database_url)
    print(f"schema up to date: {_safe_url(settings.database_url)}")
    return 0


def cmd_seed(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.seed import seed

    counts = seed(_db(settings), Path(args.company or settings.company_dir))
    print(f"seeded {_safe_url(settings.database_url)}: {counts['created']} created, {counts['updated']} updated, "
          f"{counts['deactivated']} deactivated")
    return 0


def cmd_lookups(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.company import render_lookups

    target = Path(args.output)
    text = render_lookups(settings.company_dir)
    if target.exists() and target.read_text(encoding="utf-8") == text:
        return 0
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    print(f"wrote {target}")
    return 0


def cmd_token(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.auth import UnknownPerson, issue_token, revoke_tokens

    db = _db(settings)
    if args.revoke:
        print(f"revoked {revoke_tokens(db, args.person)} token(s) of {args.person}")
        return 0
    try:
        print(issue_token(db, args.person))
    except UnknownPerson:
        print(f"no active employee with id {args.person!r} (run `assistant seed` first?)", file=sys.stderr)
        return 2
    return 0


def cmd_outbox(args: argparse.Namespace, settings: Settings) -> int:
    """List IM effects that are still pending or have failed (add --all for sent ones too)."""
    from assistant.outbox import listing

    statuses = ("pending", "failed", "sent") if args.all else ("pending", "failed")
    effects = listing(_db(settings), statuses)
    for effect in effects:
        to = effect.payload.get("to", "")
        error = f"  last error: {effect.last_error}" if effect.last_error else ""
        print(f"#{effect.id} {effect.status:<7} {effect.kind:<6} to={to:<10} attempts={effect.attempts} "
              f"key={effect.key}{error}")
    print(f"{len(effects)} effect(s)")
    return 0


def cmd_synapse(args: argparse.Namespace, settings: Settings) -> int:
    """The local Synapse: start (config, registration, employees), stop, status, password."""
    from assistant import synapse

    try:
        if args.action == "start":
            pid = synapse.start_daemon(settings)
            new = synapse.register_company(settings)
            print(f"Synapse running at {settings.matrix_url} (pid {pid}); {new} employee(s) newly registered; "
                  f"application service: {settings.matrix_registration}")
        elif args.action == "stop":
            print("stopped" if synapse.stop_daemon(settings) else "no local Synapse was running")
        elif args.action == "status":
            up = synapse.is_up(settings)
            print(f"{settings.matrix_url}: {'up' if up else 'down'}; server name {settings.matrix_server_name}; "
                  f"Deskmate is {settings.bot_id}; registration {settings.matrix_registration}")
            return 0 if up else 1
        else:
            print(synapse.password_for(settings, args.person))
    except synapse.SynapseError as exc:
        print(exc, file=sys.stderr)
        return 2
    return 0


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from aiohttp import web

    from assistant.api.app import create_app
    from assistant.core import Assistant

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = create_app(Assistant(settings))
    web.run_app(app, host=settings.host, port=settings.api_port, access_log=None, print=None)
    return 0


def cmd_chat(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.chat import chat

    return chat(settings, args.as_person, args.via)


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    """Start everything, chat, and stop everything on exit."""
    from assistant.chat import chat
    from assistant.devstack import Stack

    stack = Stack(settings)

    def _stop(signum: int, _frame: object) -> None:
        stack.stop()
        sys.exit(128 + signum)

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGHUP, _stop)
    print("starting the assistant service and the Rasa server (about 30 s)...", flush=True)
    try:
        stack.start()
        return chat(settings, args.as_person, args.via)
    except KeyboardInterrupt:
        return 130
    finally:
        stack.stop()
        print("stopped every process it started.")


def cmd_dialogues(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.chatclient import ChatClient
    from assistant.dialogues import run

    client = ChatClient(args.rasa_url or settings.rasa_url, args.api_url or settings.api_url, settings.admin_token())
    tokens: dict[str, str] = {}

    def token_for(person: str) -> str:
        if person == "admin":
            return settings.admin_token()
        if person not in tokens:
            from assistant.auth import issue_token

            tokens[person] = issue_token(_db(settings), person, actor="dialogues")
        return tokens[person]

    outcomes = run([Path(p) for p in args.paths], client, token_for)
    return 0 if outcomes and all(o.passed for o in outcomes) else 1


def _safe_url(url: str) -> str:
    """The URL without its password, for printing."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        return f"{scheme}://{creds.split(':', 1)[0]}:***@{host}" if ":" in creds else url
    return url


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="assistant", description="Deskmate (邻桌) command line")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="bring the database schema up to date").set_defaults(func=cmd_migrate)
    seed = sub.add_parser("seed", help="load company/ (people, policy, policy changes); idempotent")
    seed.add_argument("--company", help="folder with people.yml, policy.yml, policy_changes.yml")
    seed.set_defaults(func=cmd_seed)
    lookups = sub.add_parser("lookups", help="generate the NLU lookup tables of names from company/people.yml")
    lookups.add_argument("--output", default="data/nlu/lookups.yml")
    lookups.set_defaults(func=cmd_lookups)
    token = sub.add_parser("token", help="issue (or --revoke) an employee's API token")
    token.add_argument("person")
    token.add_argument("--revoke", action="store_true")
    token.set_defaults(func=cmd_token)
    outbox = sub.add_parser("outbox", help="list IM effects still pending or failed")
    outbox.add_argument("--all", action="store_true", help="include effects already sent")
    outbox.set_defaults(func=cmd_outbox)
    syn = sub.add_parser("synapse", help="the local Synapse: start, stop, status, password PERSON")
    syn.add_argument("action", choices=("start", "stop", "status", "password"))
    syn.add_argument("person", nargs="?", default="zhangwei", help="for `password`: whose (to log in with Element)")
    syn.set_defaults(func=cmd_synapse)
    sub.add_parser("serve", help="run the assistant service: /api and the action webhook").set_defaults(
        func=cmd_serve)
    for name, func, text in (("chat", cmd_chat, "chat in the terminal with the running assistant"),
                             ("run", cmd_run, "start everything, chat, stop everything on exit")):
        cmd = sub.add_parser(name, help=text)
        cmd.add_argument("--as", dest="as_person", default="zhangwei", help="employee id to chat as")
        cmd.add_argument("--via", choices=("matrix", "rest"),
                         help="chat over Matrix or the REST channel (default: matrix when DESKMATE_IM=matrix)")
        cmd.set_defaults(func=func)
    dialogues = sub.add_parser("dialogues", help="scripted dialogues against the running assistant")
    dsub = dialogues.add_subparsers(dest="dialogues_command", required=True)
    drun = dsub.add_parser("run", help="play dialogue files or folders; prints pass/fail per dialogue")
    drun.add_argument("paths", nargs="+")
    drun.add_argument("--rasa-url")
    drun.add_argument("--api-url")
    drun.set_defaults(func=cmd_dialogues)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args, get_settings())


if __name__ == "__main__":
    sys.exit(main())
