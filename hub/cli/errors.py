"""The ``hub`` command's one error boundary: every error an operator can cause or meet
becomes one line on stderr saying what to do, and an exit code from one table.

==== =====================================================================
code meaning
==== =====================================================================
0    done
1    the work failed (a registry refused or is down, a file cannot be written,
     a check found a problem); see the line printed
2    usage: a wrong option, argument or input; fix the command line
3    cannot start as configured: a ``HUB_*`` setting or a configuration file is
     wrong, or a port to listen on is taken
4    the hub's database is unavailable or not migrated (``hub db upgrade``)
130  interrupted (Ctrl-C)
==== =====================================================================

Nothing here imports the hub's heavy modules at import time: ``hub --help`` stays fast.
"""

from __future__ import annotations

import errno
import json
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic import ValidationError

EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_CONFIGURATION = 3
EXIT_STORE = 4
EXIT_INTERRUPTED = 130

_MAX_LINE = 400


@dataclass(frozen=True)
class Explained:
    """What the boundary prints for an error, and the process's exit code."""

    message: str
    exit_code: int


def explain(error: BaseException) -> Explained | None:
    """The one-line explanation of ``error``; ``None`` for an unexpected one (a bug)."""
    from pydantic import ValidationError

    from hub.errors import ConfigurationError, HubError, InvalidInput, StoreUnavailable

    if isinstance(error, KeyboardInterrupt):
        return Explained("interrupted", EXIT_INTERRUPTED)
    if isinstance(error, InvalidInput):
        return Explained(str(error), EXIT_USAGE)
    if isinstance(error, ConfigurationError):
        return Explained(f"configuration: {error}", EXIT_CONFIGURATION)
    if isinstance(error, StoreUnavailable):
        return Explained(str(error), EXIT_STORE)
    if isinstance(error, HubError):
        return Explained(str(error), EXIT_FAILED)
    if isinstance(error, json.JSONDecodeError):
        return Explained(
            f"malformed JSON in an option ({error.msg} at character {error.pos}); "
            "quote it for the shell and check its brackets",
            EXIT_USAGE,
        )
    if isinstance(error, ValidationError):
        return _validation(error)
    database = _database(error)
    if database is not None:
        return database
    if isinstance(error, OSError):
        return _os_error(error)
    return None


def one_line(text: str) -> str:
    """``text`` on one line, personal numbers masked, cut to a readable length."""
    from hub.log import mask_text

    flat = " ".join(mask_text(text).split())
    return flat if len(flat) <= _MAX_LINE else flat[: _MAX_LINE - 1] + "…"


def _validation(error: ValidationError) -> Explained:
    title = str(error.title)
    settings = title.endswith("Settings")
    problems = []
    for item in error.errors(include_url=False):
        message = str(item.get("msg", "invalid")).removeprefix("Value error, ")
        if item.get("type") == "extra_forbidden":
            message = "not a setting of the hub: unset it"
        location = [str(part) for part in item.get("loc", ())]
        if settings and location:
            name = "HUB_" + "__".join(location).upper()
            problems.append(f"{name}: {message}")
        elif location:
            problems.append(f"{'.'.join(location)}: {message}")
        else:
            problems.append(message)
    what = "; ".join(problems) or str(error)
    if settings:
        return Explained(
            f"configuration: {what} (fix the HUB_* environment variables)", EXIT_CONFIGURATION
        )
    return Explained(f"invalid {title}: {what}", EXIT_USAGE)


def _database(error: BaseException) -> Explained | None:
    sqlalchemy_exc = sys.modules.get("sqlalchemy.exc")
    if sqlalchemy_exc is None:
        return None
    url_hint = "set HUB_DATABASE_URL to sqlite:///path/hub.sqlite3 or postgresql://user@host/db"
    if isinstance(error, sqlalchemy_exc.NoSuchModuleError):
        return Explained(
            "configuration: HUB_DATABASE_URL names a database the hub does not support; "
            + url_hint,
            EXIT_CONFIGURATION,
        )
    if isinstance(error, sqlalchemy_exc.ArgumentError) and "URL" in str(error):
        return Explained(
            f"configuration: HUB_DATABASE_URL is not a database URL; {url_hint}",
            EXIT_CONFIGURATION,
        )
    if isinstance(error, sqlalchemy_exc.DBAPIError):
        cause = _first_line(error.orig) if error.orig is not None else type(error).__name__
        lowered = cause.lower()
        if "no such table" in lowered or ("relation" in lowered and "does not exist" in lowered):
            return Explained(
                "the database has no hub schema (or an older one): run `hub db upgrade`",
                EXIT_STORE,
            )
        if isinstance(error, sqlalchemy_exc.OperationalError | sqlalchemy_exc.InterfaceError):
            return Explained(
                f"the hub's database cannot be used ({cause}); check HUB_DATABASE_URL and "
                "that the database server is up and the database exists",
                EXIT_STORE,
            )
    return None


def _first_line(error: Any) -> str:
    lines = str(error).strip().splitlines()
    return lines[0].strip() if lines else type(error).__name__


def _os_error(error: OSError) -> Explained:
    where = f": {error.filename}" if error.filename else ""
    reason = error.strerror or _first_line(error)
    if error.errno == errno.EADDRINUSE:
        return Explained(
            f"{reason}{where}: another process listens on that port; "
            "choose another port or stop that process",
            EXIT_CONFIGURATION,
        )
    if isinstance(error, PermissionError):
        advice = "choose a path you may write to, or fix its permissions"
    elif isinstance(error, FileExistsError | NotADirectoryError | IsADirectoryError):
        advice = "choose another path"
    elif isinstance(error, FileNotFoundError):
        advice = "check the path"
    else:
        advice = "check the path, the disk and the network"
    return Explained(f"{reason}{where}; {advice}", EXIT_FAILED)


def report(error: BaseException) -> int:
    """Print the one line for ``error`` on stderr; its exit code. Unexpected errors (bugs)
    also leave their traceback in the log, masked, for a bug report."""
    from typer import secho

    explained = explain(error)
    if explained is None:
        from hub.log import get_logger

        get_logger("cli").error("unexpected_error", error=type(error).__name__, exc_info=error)
        explained = Explained(
            f"unexpected {type(error).__name__}: {_first_line(error)} "
            "(a bug: report it with the log above)",
            EXIT_FAILED,
        )
    secho(f"error: {one_line(explained.message)}", err=True, fg="red")
    return explained.exit_code
