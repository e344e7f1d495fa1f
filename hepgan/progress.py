"""Progress of a long command on stderr: a tqdm bar on a terminal, plain lines elsewhere (a
batch job's log file, CI), where a bar's carriage returns would pile up on one line.

Off a terminal a line is written at the first update, then at most every
:data:`LINE_EVERY_SECONDS`, and always for the last count (at the total, or at the end):

    hepgan generate: 65536/100000 events (66%), 12.1 s
"""

from __future__ import annotations

import sys
import time
from typing import Any

LINE_EVERY_SECONDS = 10.0  # wall seconds between two lines off a terminal


class Progress:
    """Counts ``unit`` up to ``total`` (None: unknown) for the command ``command``."""

    def __init__(self, command: str, *, total: int | None, unit: str) -> None:
        self.command, self.total, self.unit = command, total, unit
        self.count = 0
        self._started = time.monotonic()
        self._last_line: float | None = None
        self._count_shown = 0
        self._detail = ""
        self._bar: Any = None
        if sys.stderr.isatty():
            from tqdm import tqdm

            self._bar = tqdm(total=total, unit=f" {unit}", desc=command, file=sys.stderr)

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._bar is not None:
            self._bar.close()
        elif exc_info[0] is None and self.count != self._count_shown:
            self._say()  # off a terminal the last count is always said

    def update(self, count: int, detail: str = "") -> None:
        """``count`` more done; ``detail`` (e.g. a loss) is shown beside the count."""
        self.count, self._detail = self.count + count, detail
        if self._bar is not None:
            self._bar.update(count)
            if detail:
                self._bar.set_postfix_str(detail, refresh=False)
            return
        last = self.total is not None and self.count >= self.total
        recent = self._last_line is not None
        if recent and time.monotonic() - self._last_line < LINE_EVERY_SECONDS and not last:
            return
        self._say()

    def _say(self) -> None:
        self._last_line, self._count_shown = time.monotonic(), self.count
        print(self.line(), file=sys.stderr, flush=True)

    def line(self) -> str:
        """``hepgan COMMAND: COUNT/TOTAL UNIT (PERCENT), SECONDS s[, DETAIL]``."""
        done = f"{self.count} {self.unit}"
        if self.total:
            done = f"{self.count}/{self.total} {self.unit} ({self.count / self.total:.0%})"
        text = f"hepgan {self.command}: {done}, {time.monotonic() - self._started:.1f} s"
        return f"{text}, {self._detail}" if self._detail else text
