"""The training progress display: a tqdm bar when tqdm is installed, a plain status line otherwise."""
from __future__ import annotations

import math
import sys
import time
from typing import Optional


def _format(stats) -> dict:
    shown = {"loss": f"{stats.loss:.4g}"}
    if stats.accuracy is not None:
        shown["acc"] = f"{stats.accuracy:.2%}"
    if stats.val_loss is not None:
        shown["val_loss"] = f"{stats.val_loss:.4g}"
    if stats.val_accuracy is not None:
        shown["val_acc"] = f"{stats.val_accuracy:.2%}"
    return shown


class Progress:
    """Shows training progress, one update per epoch.

    ``mode``: ``True`` (tqdm when importable, else the plain line), ``"tqdm"``, ``"plain"``, or
    ``None`` for automatic: like ``True`` when standard error is a terminal, and then only once
    the training has lasted a second (short fits stay silent).
    """

    def __init__(self, mode, total: int, stream=None):
        self.stream = stream if stream is not None else sys.stderr
        self.total = total
        self.bar = None
        self.enabled = True
        self.count = 0
        self.started = time.monotonic()
        self.last_draw = 0.0
        self.delay = 0.0
        if mode is None:
            isatty = getattr(self.stream, "isatty", None)
            if not (isatty and isatty()):
                self.enabled = False
                return
            self.delay = 1.0
            mode = True
        if mode is False:
            self.enabled = False
            return
        if mode is True or mode == "tqdm":
            try:
                from tqdm.auto import tqdm
            except ImportError:
                if mode == "tqdm":
                    raise
            else:
                self.bar = tqdm(total=total, unit="epoch", desc="fit", file=self.stream,
                                delay=self.delay, dynamic_ncols=True, leave=True)
                return
        elif mode != "plain":
            raise ValueError(f"progress must be None, True, False, 'tqdm' or 'plain', got {mode!r}")
        isatty = getattr(self.stream, "isatty", None)
        self.interactive = bool(isatty and isatty())

    def update(self, stats) -> None:
        if not self.enabled:
            return
        self.count += 1
        if self.bar is not None:
            self.bar.set_postfix(_format(stats), refresh=False)
            self.bar.update(1)
            return
        now = time.monotonic()
        if now - self.started < self.delay:
            return
        last = self.count == self.total
        if self.interactive:
            if not last and now - self.last_draw < 0.1:
                return
        else:
            step = max(1, math.ceil(self.total / 10))
            if not last and self.count % step:
                return
        self.last_draw = now
        fields = "  ".join(f"{k} {v}" for k, v in _format(stats).items())
        width = len(str(self.total))
        line = f"fit: epoch {self.count:>{width}}/{self.total}  {fields}  [{now - self.started:.1f}s]"
        if self.interactive:
            self.stream.write("\r" + line + "\x1b[K")
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def close(self) -> None:
        if not self.enabled:
            return
        if self.bar is not None:
            self.bar.close()
        elif self.interactive and self.last_draw:
            self.stream.write("\n")
            self.stream.flush()
        self.enabled = False


def make(mode, total: int, stream=None) -> Optional[Progress]:
    progress = Progress(mode, total, stream)
    return progress if progress.enabled else None
