"""Entry point of the ``hub`` command.

Commands are imported when they run, not when the command line is parsed, so that
``hub --help`` does not load FastAPI, zeep, matplotlib and the mocks. Every error
leaves through one boundary (:mod:`hub.cli.errors`): one line, one exit code.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib import import_module
from typing import Annotated, Any

import typer
from typer import _click as click
from typer.core import TyperCommand, TyperGroup

import hub

# name -> (what implements it, its one-line help). A ``module:attr`` that is a Typer is a
# command group; a function is one command.
COMMANDS: dict[str, tuple[str, str]] = {
    "db": ("hub.cli.db:app", "Database schema."),
    "fixtures": ("hub.cli.fixtures:app", "Synthetic registry data."),
    "mocks": ("hub.cli.mocks:app", "Simulated registries."),
    "registries": ("hub.cli.registries:app", "The registries the hub talks to."),
    "review": ("hub.cli.review:app", "Uncertain identity pairs an operator decides."),
    "quarantine": ("hub.cli.quarantine:app", "Records that did not map."),
    "outbox": ("hub.cli.outbox:app", "Deliveries to the registries."),
    "sync": ("hub.cli.sync:app", "Sync flows between the registries."),
    "jobs": ("hub.cli.jobs:app", "Jobs: ingestions, flow runs and reconciliations."),
    "audit": ("hub.cli.audit:app", "The audit log of reads and deliveries of personal data."),
    "clients": ("hub.cli.clients:app", "API clients, their scopes and keys."),
    "reconcile": (
        "hub.cli.reconcile:app",
        "Reconciliation runs: inconsistencies between the registries.",
    ),
    "report": ("hub.cli.report:app", "Statistical reports (aggregates only)."),
    "demo": (
        "hub.cli.demo:demo",
        "Generate a population, start the five mock registries, ingest them, run every flow.",
    ),
    "ingest": (
        "hub.cli.ingest:ingest",
        "Read each registry's change feed from its watermark into the canonical store.",
    ),
    "link": (
        "hub.cli.link:link",
        "Link each row of FILE to a known person: personal_no, score and link/review/none.",
    ),
    "openapi": ("hub.cli.openapi:openapi", "The HTTP API's OpenAPI 3.1 document, as YAML."),
    "serve": (
        "hub.cli.serve:serve",
        "Serve the HTTP API with the scheduler, dispatcher and a job worker, until interrupted.",
    ),
    "worker": (
        "hub.cli.serve:worker",
        "Run the scheduler, dispatcher and a job worker without HTTP until SIGINT or SIGTERM.",
    ),
}


def load_command(name: str, target: str) -> click.Command:
    """The click command ``target`` (``module:attr``) implements, named ``name``."""
    module, attr = target.split(":")
    implementation = getattr(import_module(module), attr)
    if isinstance(implementation, typer.Typer):
        command: click.Command = typer.main.get_group(implementation)
    else:
        single = typer.Typer()
        single.command(name=name)(implementation)
        command = typer.main.get_command(single)
    command.name = name
    return command


class _LazyCommand(TyperCommand):
    """Stands for a command in ``hub --help`` and loads it when it is run or completed."""

    def __init__(self, name: str, target: str, short_help: str) -> None:
        super().__init__(name=name, help=short_help, short_help=short_help)
        self._target = target
        self._loaded: click.Command | None = None

    def load(self) -> click.Command:
        """The real command, imported on first use."""
        if self._loaded is None:
            assert self.name is not None
            self._loaded = load_command(self.name, self._target)
        return self._loaded

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        return self.load().make_context(info_name, args, parent=parent, **extra)


class _HubGroup(TyperGroup):
    """The ``hub`` group: lazily loaded commands, and the one error boundary around them."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        for name, (target, short_help) in COMMANDS.items():
            self.commands.setdefault(name, _LazyCommand(name, target, short_help))

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, typer.TyperException):
            raise
        except (Exception, KeyboardInterrupt) as error:
            from hub.cli.errors import report

            raise typer.Exit(report(error)) from None


def _version(value: bool) -> None:
    if value:
        typer.echo(f"hub {hub.__version__}")
        raise typer.Exit()


app = typer.Typer(
    name="hub",
    cls=_HubGroup,
    help="Ura — the registry interoperability hub.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def _configure(
    _version_flag: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the hub's version and exit."
        ),
    ] = False,
) -> None:
    """Ura — the registry interoperability hub."""
    from hub.log import configure_logging
    from hub.settings import get_settings

    settings = get_settings()
    configure_logging(
        level=settings.log_level,
        fmt=settings.log_format,
        pseudonym_key=settings.log_pseudonym_key.get_secret_value() or None,
    )


def main(argv: Sequence[str] | None = None) -> None:
    """Run the ``hub`` command (as the console script does)."""
    app(args=list(argv) if argv is not None else None)
