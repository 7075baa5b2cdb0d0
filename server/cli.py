"""`stockcount`: the server's command line.

    stockcount migrate [--to REV]       apply migrations (or go to REV, e.g. base)
    stockcount serve                    serve the API (uvicorn)
    stockcount user create NAME --role R [--password P]
    stockcount import FILE [FILE ...] [--kind K] [--update] [--by NAME]
                                        CSV or JSON master data, all or nothing
    stockcount schemas export DIR       JSON Schema for every wire struct
    stockcount demo                     migrate a SQLite file, load a sample warehouse, serve
    stockcount sync new-epoch           after restoring a backup: devices reset and re-send
    stockcount backup FILE              a consistent copy of the SQLite database, while serving

Errors print one line that says what to do next, and exit 1 (2 for a usage error).
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

from server.domain.errors import StockcountError
from server.domain.masterdata import Role
from server.settings import Settings


def _settings() -> Settings:
    return Settings.from_env()


def cmd_migrate(args: argparse.Namespace) -> int:
    from server.db import migrate

    settings = _settings()
    if args.to and args.to != "head":
        current = asyncio.run(_current(settings))
        migrate.downgrade(settings.database_url, args.to)
        print(f"database moved from {current or 'empty'} to {args.to}")
        return 0
    migrate.upgrade(settings.database_url)
    print(f"database at revision {migrate.head_revision()} ({_where(settings)})")
    return 0


async def _current(settings: Settings) -> str | None:
    from server.db.engine import make_engine
    from server.db.migrate import current_revision

    engine = make_engine(settings.database_url)
    try:
        return await current_revision(engine)
    finally:
        await engine.dispose()


def _where(settings: Settings) -> str:
    from sqlalchemy.engine import make_url

    return make_url(settings.database_url).render_as_string(hide_password=True)


def cmd_serve(args: argparse.Namespace) -> int:
    from server.app import serve

    serve(_settings())
    return 0


async def create_user(settings: Settings, username: str, password: str, role: Role) -> None:
    from server.auth import usecases as auth
    from server.bootstrap import open_runtime

    async with open_runtime(settings) as runtime:
        await auth.create_user(runtime.uow(), username, password, role, datetime.now(UTC))


def cmd_user_create(args: argparse.Namespace) -> int:
    password = args.password or os.environ.get("STOCKCOUNT_PASSWORD")
    if not password:
        if not sys.stdin.isatty():
            raise StockcountError("give --password or STOCKCOUNT_PASSWORD (no terminal to ask)")
        password = getpass.getpass(f"password for {args.name}: ")
    if len(password) < 8:
        raise StockcountError("the password needs at least 8 characters")
    asyncio.run(create_user(_settings(), args.name, password, Role(args.role)))
    print(f"user {args.name} created with role {args.role}")
    return 0


def import_files(
    settings: Settings,
    paths: list[Path],
    kind: str | None,
    update: bool = False,
    by: str | None = None,
) -> int:
    """`stockcount import FILE... [--kind K] [--update] [--by NAME]`: import into
    settings.database_url.

    CSV files are one kind each (`kind`, else the file name); JSON files name their kinds.
    `update`: rows whose key exists update that record. The audit trail (and with
    `update` the change log) names `by`, default `cli:` and the login name. Prints the
    rows per kind and the time; progress goes to stderr for large files. Returns 0; errors
    raise StockcountError (main prints it as one line).
    """
    from server.bootstrap import import_into_database
    from server.masterdata.usecases.importer import Source, Updating, format_summary
    from server.ports import Actor

    def say(message: str) -> None:
        print(f"stockcount: {message}", file=sys.stderr, flush=True)

    if by is not None and not by.strip():
        raise StockcountError("--by needs a name: who imports, as the audit trail shows it")
    caller, now = by or _login(), datetime.now(UTC)
    updating = Updating(caller, now) if update else None
    sources = [Source(path.name, path, kind) for path in paths]
    summary = asyncio.run(
        import_into_database(
            settings.database_url, sources, say, updating, Actor(None, now, caller)
        )
    )
    print(format_summary(summary))
    return 0


def _login() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no login name in a bare container
        return "cli"


def cmd_import(args: argparse.Namespace) -> int:
    return import_files(_settings(), [Path(p) for p in args.files], args.kind, args.update, args.by)


def cmd_schemas_export(args: argparse.Namespace) -> int:
    from schemas.export import export_json_schema

    written = export_json_schema(Path(args.dir))
    print(f"wrote {len(written)} JSON Schema files to {args.dir}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from server.demo.main import run_demo

    return run_demo(args)


async def _new_epoch(settings: Settings) -> str:
    from server.bootstrap import open_runtime
    from server.sync.usecases import force_new_epoch

    async with open_runtime(settings) as runtime:
        return await force_new_epoch(runtime.uow())


def cmd_sync_new_epoch(_: argparse.Namespace) -> int:
    epoch = asyncio.run(_new_epoch(_settings()))
    print(f"sync epoch is now {epoch}: every device resets its reference data at its next pull")
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    from server.db.backup import backup_sqlite

    settings = _settings()
    target = Path(args.file)
    pages = backup_sqlite(settings.database_url, target)
    print(f"backed up {_where(settings)} to {target} ({pages} pages)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stockcount", description="stockcount server: counts, documents, journal."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("migrate", help="apply database migrations")
    p.add_argument("--to", help="target revision (default head; 'base' empties the database)")
    p.set_defaults(func=cmd_migrate)

    p = sub.add_parser("serve", help="serve the API on STOCKCOUNT_HOST:STOCKCOUNT_PORT")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("user", help="manage users")
    user_sub = p.add_subparsers(dest="user_command", required=True, metavar="ACTION")
    q = user_sub.add_parser("create", help="create a user")
    q.add_argument("name")
    q.add_argument("--role", required=True, choices=[r.value for r in Role])
    q.add_argument("--password", help="or STOCKCOUNT_PASSWORD, or asked on the terminal")
    q.set_defaults(func=cmd_user_create)

    p = sub.add_parser("import", help="import master data from CSV or JSON (all or nothing)")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument(
        "--kind",
        help="what a CSV file holds (default: from its name, e.g. serials.csv)",
    )
    p.add_argument(
        "--update",
        action="store_true",
        help="update the records whose code exists (and log each change); create the others",
    )
    p.add_argument(
        "--by", help="who imports, as the audit trail (and the change log) names it (cli:LOGIN)"
    )
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("schemas", help="wire schemas")
    schemas_sub = p.add_subparsers(dest="schemas_command", required=True, metavar="ACTION")
    q = schemas_sub.add_parser("export", help="write JSON Schema for every wire struct")
    q.add_argument("dir")
    q.set_defaults(func=cmd_schemas_export)

    p = sub.add_parser("demo", help="load a sample warehouse into a SQLite file and serve it")
    p.add_argument("--database", default="var/demo.sqlite3", help="SQLite file (made anew)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--no-serve", action="store_true", help="load and print, then stop")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("sync", help="the device sync protocol")
    sync_sub = p.add_subparsers(dest="sync_command", required=True, metavar="COMMAND")
    q = sync_sub.add_parser("new-epoch", help="force a new epoch after restoring from a backup")
    q.set_defaults(func=cmd_sync_new_epoch)

    p = sub.add_parser("backup", help="copy the SQLite database to FILE while it is in use")
    p.add_argument("file", metavar="FILE", help="a new file (never overwritten)")
    p.set_defaults(func=cmd_backup)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.func(args)
    except StockcountError as exc:
        print(f"stockcount: {exc}", file=sys.stderr)
        return 1
    except ValueError as exc:
        print(f"stockcount: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
