"""The sandbox a user's templates render in: Jinja's (no reaching Python internals) with
bounds on the work one render may do and on what it may produce, so that an override cannot
hang start-up or the delivery of messages (docs/templates.md, "Limits"):

- RENDER_STEPS: lines of template code run plus Python calls made (filters, macros, loop
  helpers) in one render, counted by a trace function on the rendering thread only;
- OUTPUT_MAX: characters of output, counted as the template produces them;
- both grow by PER_ARTICLE for each article of a digest: its work follows its length;
- `*`, `**` and `+`, which run in C where no step is counted, are checked before they run:
  no text or list longer than OUTPUT_MAX, no integer of more than NUMBER_BITS bits
  (`2 ** 10000000000` would otherwise never finish, even where Jinja folds it at compile).

A render past a bound raises RenderLimit, a TemplateError that says where in the template.
"""

from __future__ import annotations

import sys
from collections.abc import Generator, Mapping
from types import FrameType, TracebackType
from typing import Any, cast

from jinja2 import Template
from jinja2.exceptions import TemplateRuntimeError
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment

RENDER_STEPS = 1_000_000  # ~300x what the built-in alert needs
OUTPUT_MAX = 1_000_000  # characters: far more than any channel takes in one message
PER_ARTICLE = 10_000  # steps and characters more per article of a digest (built-in: 2,400, 1,000)
NUMBER_BITS = 4096  # an integer a template computes: at most about 1,200 digits
_SIZED = (str, list, tuple)


class RenderLimit(TemplateRuntimeError):
    """A render passed one of the bounds; `filename` and `lineno` say where when the
    traceback cannot (Jinja does not rewrite the traceback of the step count's exception)."""

    def __init__(self, message: str, filename: str | None = None, lineno: int | None = None):
        super().__init__(message)
        self.filename = filename
        self.lineno = lineno


class _Exhausted(BaseException):
    """Raised inside the render when the steps run out. A BaseException, so that no
    `except Exception` on the way (Jinja's `is sequence` test has one) can swallow it: the
    interpreter drops a trace function that raised, and the render would run on unbounded."""


class BoundedEnvironment(SandboxedEnvironment):
    """Jinja's sandbox with `*`, `**` and `+` checked before they run."""

    intercepted_binops = frozenset({"*", "**", "+"})

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        _check_operation(operator, left, right)
        return super().call_binop(context, operator, left, right)


def _check_operation(operator: str, left: Any, right: Any) -> None:
    ints = isinstance(left, int) and isinstance(right, int)
    if operator == "**" and ints and right > 0 and abs(left) > 1:
        if (abs(left).bit_length() - 1) * right > NUMBER_BITS:  # at least that many bits
            raise RenderLimit(f"{left} ** {right} has more than {NUMBER_BITS} bits")
    elif operator == "*" and ints:
        if abs(left).bit_length() + abs(right).bit_length() > NUMBER_BITS:
            raise RenderLimit(f"a product of more than {NUMBER_BITS} bits")
    elif operator == "*":
        sized, times = (left, right) if isinstance(right, int) else (right, left)
        if isinstance(sized, _SIZED) and isinstance(times, int):
            _check_length(len(sized) * times)
    elif operator == "+" and isinstance(left, _SIZED) and isinstance(right, _SIZED):
        _check_length(len(left) + len(right))


def _check_length(length: int) -> None:
    if length > OUTPUT_MAX:
        raise RenderLimit(f"a text or list {length:,} long (at most {OUTPUT_MAX:,})")


class _Steps:
    """A trace function counting template lines and Python calls; raises when they run out."""

    __slots__ = ("left",)

    def __init__(self, steps: int) -> None:
        self.left = steps

    def call(self, frame: FrameType, event: str, arg: object) -> Any:
        self.left -= 1
        if self.left < 0:
            raise _Exhausted
        return self.line if "__jinja_template__" in frame.f_globals else None

    def line(self, frame: FrameType, event: str, arg: object) -> Any:
        if event == "line":
            self.left -= 1
            if self.left < 0:
                raise _Exhausted
        return self.line


def render(template: Template, context: Mapping[str, Any], articles: int = 0) -> str:
    """`template` rendered with `context` within the bounds (grown for a digest of `articles`);
    RenderLimit when one is passed."""
    budget, most = RENDER_STEPS + PER_ARTICLE * articles, OUTPUT_MAX + PER_ARTICLE * articles
    steps = _Steps(budget)
    stream = cast(Generator[str, None, None], template.generate(context))  # it is one
    chunks: list[str] = []
    size = 0
    previous = sys.gettrace()  # a debugger's or coverage's: it misses the render's lines
    sys.settrace(steps.call)
    try:
        for chunk in stream:
            size += len(chunk)
            if size > most:  # raised where the template is (Jinja adds its line)
                stream.throw(RenderLimit(f"the output passed {most:,} characters"))
            chunks.append(chunk)
    except _Exhausted as exc:
        where = _place(exc.__traceback__)
        message = f"the render passed {budget:,} steps (a loop that runs too long?)"
        raise RenderLimit(message, *where) from None
    finally:
        sys.settrace(previous)
    return "".join(chunks)


def _place(tb: TracebackType | None) -> tuple[str | None, int | None]:
    """The template file and line of the innermost template frame in a traceback (what
    Jinja's own traceback rewriting finds, for an exception it does not handle)."""
    found: tuple[str | None, int | None] = (None, None)
    while tb is not None:
        template = tb.tb_frame.f_globals.get("__jinja_template__")
        if isinstance(template, Template):
            found = (template.filename, template.get_corresponding_lineno(tb.tb_lineno))
        tb = tb.tb_next
    return found
