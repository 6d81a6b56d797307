"""A progress bar on stderr for the long phases (redrawn in place on a terminal, one line per
quarter otherwise, so CI logs stay short)."""

from __future__ import annotations

import sys
import time


class Progress:
    last_change = time.monotonic()
    """When any bar last moved (the benchmark's stall detector reads it)."""
    current = ""

    def __init__(self, label: str, total: float, unit: str = "") -> None:
        self.label, self.total, self.unit = label, max(total, 1), unit
        self.done = 0.0
        self.t0 = time.monotonic()
        self.tty = sys.stderr.isatty()
        self._drawn = 0.0
        self._quarter = 0
        Progress.last_change, Progress.current = time.monotonic(), label
        self._draw()

    @staticmethod
    def touch() -> None:
        """Something moved that no bar shows (e.g. a drain): not a stall."""
        Progress.last_change = time.monotonic()

    def set(self, done: float) -> None:
        if done > self.done:
            Progress.last_change = time.monotonic()
        self.done = min(done, self.total)
        now = time.monotonic()
        if self.tty and now - self._drawn >= 0.2:
            self._draw()
        elif not self.tty and int(4 * self.done / self.total) > self._quarter:
            self._quarter = int(4 * self.done / self.total)
            if self._quarter < 4:
                self._draw()

    def add(self, n: float = 1) -> None:
        self.set(self.done + n)

    def close(self, note: str = "") -> None:
        self.done = self.total
        self._draw(note, final=True)

    def _draw(self, note: str = "", final: bool = False) -> None:
        self._drawn = time.monotonic()
        width = 30
        filled = int(width * self.done / self.total)
        bar = "#" * filled + "." * (width - filled)
        line = (f"{self.label:<28} [{bar}] {self.done:>6.0f}/{self.total:.0f}{self.unit} "
                f"{self._drawn - self.t0:5.1f}s {note}")
        if self.tty:
            sys.stderr.write("\r" + line + ("\n" if final else ""))
        else:
            sys.stderr.write(line + "\n")
        sys.stderr.flush()
