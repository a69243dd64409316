"""`estation-central`: serve | token create | operator-token create|list|revoke | keys | devices | revoke |
receipt check | feeds.

Every command that takes --db creates or migrates the database (and central's keys) first.
Bad input: one `error:` line on stderr, exit 2; no tracebacks.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from kiosk.cli.args import bounded, run_command
from kiosk.errors import EstationError, UsageError
from kiosk.logs import setup_logging


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(message)


def _db_url(text: str) -> str:
    if text.startswith("sqlite:///") and len(text) > len("sqlite:///"):
        return text
    if text.startswith(("postgresql://", "postgres://")):
        return text
    raise argparse.ArgumentTypeError("must be sqlite:///PATH or postgresql://…")


def build_parser() -> _Parser:
    parser = _Parser(prog="estation-central", description="e-Station central service (SYNC.md)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    def with_db(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument("--db", required=True, type=_db_url, metavar="URL", help="sqlite:///PATH or postgresql://…")
        return p

    serve = with_db(sub.add_parser("serve", help="run the HTTP service"))
    serve.add_argument("--host", required=True)
    serve.add_argument("--port", required=True, type=bounded(0, 65535))
    serve.add_argument("--workers", type=bounded(1, 64), default=1)
    serve.add_argument("--heartbeat-interval", type=bounded(1, 86400), default=60, metavar="S")
    serve.set_defaults(handler=cmd_serve)

    token = sub.add_parser("token", help="enrollment tokens").add_subparsers(
        dest="token_command", metavar="ACTION", parser_class=_Parser, required=True)
    create = with_db(token.add_parser("create", help="print a new enrollment token"))
    create.add_argument("--uses", type=bounded(1, 2**53 - 1), default=1)
    create.add_argument("--ttl", type=bounded(60, 10 * 365 * 86400), default=86400, metavar="SECONDS")
    create.add_argument("--label", default="", metavar="TEXT")
    create.set_defaults(handler=cmd_token_create)

    op = sub.add_parser("operator-token", help="operator bearer tokens").add_subparsers(
        dest="op_command", metavar="ACTION", parser_class=_Parser, required=True)
    with_db(op.add_parser("create", help="print a new operator token")).set_defaults(handler=cmd_operator_token)
    with_db(op.add_parser("list", help="list operator tokens by id (never the tokens)")).set_defaults(
        handler=cmd_operator_token_list)
    revoke_op = with_db(op.add_parser("revoke", help="revoke an operator token and end its dashboard sessions"))
    revoke_op.add_argument("token_id", metavar="ID", help="the id `operator-token list` shows (or a unique prefix)")
    revoke_op.set_defaults(handler=cmd_operator_token_revoke)

    with_db(sub.add_parser("keys", help="print central's public keys")).set_defaults(handler=cmd_keys)
    with_db(sub.add_parser("devices", help="list devices as JSON")).set_defaults(handler=cmd_devices)
    revoke = with_db(sub.add_parser("revoke", help="revoke a device"))
    revoke.add_argument("device_id")
    revoke.add_argument("--reason", default=None)
    revoke.set_defaults(handler=cmd_revoke)

    receipt = sub.add_parser("receipt", help="receipt tokens").add_subparsers(
        dest="receipt_command", metavar="ACTION", parser_class=_Parser, required=True)
    check = with_db(receipt.add_parser("check", help="check a resident's receipt token (ES1:...): signed by one "
                                                    "of our kiosks? record arrived? exit 1 when not genuine"))
    check.add_argument("token")
    check.set_defaults(handler=cmd_receipt_check)

    feeds = sub.add_parser("feeds", help="feed snapshots").add_subparsers(
        dest="feeds_command", metavar="ACTION", parser_class=_Parser, required=True)
    pub = with_db(feeds.add_parser("publish", help="publish a new version of a feed"))
    pub.add_argument("--name", required=True)
    pub.add_argument("--file", required=True, type=Path, metavar="F", help="JSON object: the content")
    pub.add_argument("--expires-in", type=bounded(60, 31536000), default=7 * 86400, metavar="S")
    pub.set_defaults(handler=cmd_feeds_publish)
    with_db(feeds.add_parser("rotate-key", help="rotate the feed key (chain link signed by old and new)")
            ).set_defaults(handler=cmd_feeds_rotate)
    return parser


def _central(args: argparse.Namespace, **settings):
    from sync.central.service import Central
    from sync.central.settings import Settings
    from sync.central.storage import StorageUnavailable

    try:
        return Central(Settings(db_url=args.db, **settings))
    except StorageUnavailable as exc:
        raise EstationError(f"database unavailable: {exc}") from None


def cmd_serve(args: argparse.Namespace) -> int:
    import os

    import uvicorn

    try:
        ipaddress.ip_address(args.host)
    except ValueError:
        if args.host != "localhost":
            raise UsageError(f"--host: not an IP address: {args.host!r}") from None
    settings = {"heartbeat_interval_s": args.heartbeat_interval}
    _central(args, **settings).close()  # create/migrate once before the workers start
    from sync.central.settings import Settings
    os.environ.update(Settings(db_url=args.db, **settings).to_env())
    uvicorn.run("sync.central.api.app:app_from_env", factory=True, host=args.host, port=args.port,
                workers=args.workers, log_config=None, access_log=False)
    return 0


def cmd_token_create(args: argparse.Namespace) -> int:
    token, _ = _central(args).create_enroll_token(uses=args.uses, ttl_s=args.ttl, label=args.label)
    print(token)
    return 0


def cmd_operator_token(args: argparse.Namespace) -> int:
    print(_central(args).create_operator_token())
    return 0


def cmd_operator_token_list(args: argparse.Namespace) -> int:
    for token_id, created_at in _central(args).operator_tokens():
        print(f"{token_id}  created {created_at}")
    return 0


def cmd_operator_token_revoke(args: argparse.Namespace) -> int:
    if not _central(args).revoke_operator_token(args.token_id):
        raise UsageError(f"no single operator token with id {args.token_id!r} (see `operator-token list`)")
    print(f"revoked {args.token_id}; its dashboard sessions are ended")
    return 0


def cmd_keys(args: argparse.Namespace) -> int:
    from sync.protocol.keys import raw_public

    keys = _central(args).keyring.keys
    for name, key in (("receipt", keys.receipt), ("record", keys.record), ("feed", keys.feed)):
        print(f"{name} {raw_public(key).hex()}")
    return 0


def cmd_devices(args: argparse.Namespace) -> int:
    from sync.central.fleet import all_device_views

    print(json.dumps({"devices": all_device_views(_central(args))}, ensure_ascii=False, indent=2))
    return 0


def cmd_revoke(args: argparse.Namespace) -> int:
    central = _central(args)
    if not central.repo.revoke(device_id=args.device_id, reason=args.reason, now_text=central.now_text()):
        raise UsageError(f"no such device: {args.device_id}")
    print(f"revoked {args.device_id}")
    return 0


def cmd_receipt_check(args: argparse.Namespace) -> int:
    from sync.central.receipt_tokens import check_receipt_token

    result = check_receipt_token(_central(args), args.token)
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0 if result["valid"] else 1


def cmd_feeds_publish(args: argparse.Namespace) -> int:
    from sync.central.feeds import FEED_NAME, publish
    from sync.protocol.jsonprofile import ProfileViolation, parse_profile

    if not FEED_NAME.fullmatch(args.name):
        raise UsageError(f"--name: must match ^[a-z][a-z0-9_-]{{0,31}}$: {args.name!r}")
    try:
        content = parse_profile(args.file.read_bytes())
    except OSError as exc:
        raise UsageError(f"--file: cannot read {args.file}: {exc.strerror}") from None
    except ProfileViolation as exc:
        raise UsageError(f"--file: not profile JSON: {exc}") from None
    if not isinstance(content, dict):
        raise UsageError("--file: content must be a JSON object")
    snapshot = json.loads(publish(_central(args), args.name, content, args.expires_in))
    print(f"published {args.name} version {snapshot['signed']['version']}")
    return 0


def cmd_feeds_rotate(args: argparse.Namespace) -> int:
    from sync.central.feeds import FeedKeyRotated, rotate_feed_key

    try:
        link = rotate_feed_key(_central(args))
    except FeedKeyRotated as exc:
        raise EstationError(str(exc)) from None
    print(f"feed key rotated {link['signed']['old_key_id']} -> {link['signed']['new_key_id']}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    setup_logging("WARNING")
    return run_command(build_parser(), argv, needs="estation-central COMMAND (--help lists them)")


if __name__ == "__main__":
    sys.exit(main())
