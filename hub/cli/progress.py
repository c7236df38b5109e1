"""Progress for long work: rich bars in a terminal, structured log lines otherwise."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from hub.log import get_logger

ProgressCallback = Callable[[int, int], None]
"""``update(done, total)``."""


class ProgressBoard:
    """Several tasks' progress at once: one rich display, or log lines every tenth."""

    def __init__(self, bars: Progress | None) -> None:
        self._bars = bars
        self._log = get_logger("progress")

    def task(self, description: str) -> ProgressCallback:
        """A new task on the board; call the result with ``(done, total)``."""
        if self._bars is not None:
            bars = self._bars
            task_id = bars.add_task(description, total=None)

            def update_bar(done: int, total: int) -> None:
                bars.update(task_id, completed=done, total=total or None)

            return update_bar
        last_decile = -1

        def update_log(done: int, total: int) -> None:
            nonlocal last_decile
            decile = min(10, 10 * done // total) if total else 0
            if decile != last_decile:
                last_decile = decile
                self._log.info("progress", task=description, done=done, total=total)

        return update_log


@contextmanager
def progress_board(console: Console | None = None) -> Iterator[ProgressBoard]:
    """A board for the duration of the block; bars go to stderr."""
    console = console or Console(stderr=True)
    if not console.is_terminal:
        yield ProgressBoard(None)
        return
    columns = (
        TextColumn("{task.description:<24}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console) as bars:
        yield ProgressBoard(bars)


@contextmanager
def progress(description: str, console: Console | None = None) -> Iterator[ProgressCallback]:
    """One task's progress for the duration of the block."""
    with progress_board(console) as board:
        yield board.task(description)
