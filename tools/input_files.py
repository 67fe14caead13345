"""Every file a tool reads (`--config-file`, `--base`, `--policy-pack-config`, `--outputs-file`),
read one way: a regular file only, at most a bounded number of bytes, as UTF-8 text; a JSON one
with bounded numbers and nesting. A problem is `InputFileError`, one line naming the flag and the
file; nothing here raises anything else and nothing waits on a pipe or a device.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

MAX_BYTES = 8_000_000  # a plan of a few hundred resources is well under 1 MB
MAX_NUMBER_CHARS = 40  # digits of a JSON number: an account id has 12, a port 4
MAX_DEPTH = 64  # JSON nesting: a plan's resource inputs are a handful of levels deep
MAX_SHOWN = 120


class InputFileError(ValueError):
    """A file a tool was given cannot be read as what it should be; the message says why."""


def shown_path(path: Path | str, limit: int = MAX_SHOWN) -> str:
    """A path (or any text) safe to print on one line: controls escaped, at most `limit` long."""
    text = str(path).encode("utf-8", "backslashreplace").decode("utf-8")
    text = "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def read_bytes(path: Path, where: str, limit: int = MAX_BYTES) -> bytes:
    """The file's bytes. `where` names it in messages (`--base plan.json`).

    Opened without blocking and checked to be a regular file before anything is read: a FIFO, a
    device (`/dev/zero`), a directory or a socket is refused at once, so no read can hang or run
    forever; at most `limit` bytes are read.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError:
        raise InputFileError(f"{where}: no such file") from None
    except OSError as err:
        raise InputFileError(f"{where}: cannot be read: {err.strerror or err}") from None
    except ValueError:  # a path no file can have (a NUL byte in it)
        raise InputFileError(f"{where}: is not a path a file can have") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = (
                "a directory"
                if stat.S_ISDIR(mode)
                else "a pipe (FIFO)"
                if stat.S_ISFIFO(mode)
                else "a device"
                if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
                else "a socket"
                if stat.S_ISSOCK(mode)
                else "not a regular file"
            )
            raise InputFileError(f"{where}: is {kind}; give a regular file")
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as err:
        raise InputFileError(f"{where}: cannot be read: {err.strerror or err}") from None
    finally:
        os.close(fd)
    if size > limit:
        raise InputFileError(f"{where}: is larger than {limit} bytes; is this the right file?")
    return b"".join(chunks)


def read_text(path: Path, where: str, limit: int = MAX_BYTES) -> str:
    data = read_bytes(path, where, limit)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise InputFileError(
            f"{where}: is not UTF-8 text (byte {err.start}: {err.reason})"
        ) from None


class _NumberTooLongError(ValueError):
    pass


def _number(text: str) -> int | float:
    if len(text) > MAX_NUMBER_CHARS:
        raise _NumberTooLongError(text)
    if any(c in text for c in ".eE"):
        return float(text)
    return int(text)


def loads_json(text: str, where: str, hint: str) -> Any:
    """JSON text as Python values, refusing numbers longer than MAX_NUMBER_CHARS and nesting
    deeper than MAX_DEPTH. `hint` says how the file is made, for a file that is not JSON."""
    try:
        document = json.loads(text, parse_int=_number, parse_float=_number)
    except _NumberTooLongError as err:
        raise InputFileError(
            f"{where}: holds a number of {len(str(err))} characters; no value this file "
            f"holds is longer than {MAX_NUMBER_CHARS}: {hint}"
        ) from None
    except json.JSONDecodeError as err:
        raise InputFileError(
            f"{where}: not JSON ({err.msg}, line {err.lineno} column {err.colno}); {hint}"
        ) from None
    except (RecursionError, ValueError):
        raise InputFileError(f"{where}: nested too deeply to be what it should; {hint}") from None
    if depth(document) > MAX_DEPTH:
        raise InputFileError(f"{where}: nested more than {MAX_DEPTH} deep; {hint}")
    return document


def read_json(path: Path, where: str, hint: str, limit: int = MAX_BYTES) -> Any:
    return loads_json(read_text(path, where, limit), where, hint)


def depth(value: Any) -> int:
    """How deeply lists and objects nest in a JSON value (0 for a scalar); iterative."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        current, level = stack.pop()
        if isinstance(current, dict):
            children: Any = current.values()
        elif isinstance(current, list):
            children = current
        else:
            continue
        deepest = max(deepest, level + 1)
        if deepest > MAX_DEPTH:
            return deepest
        stack.extend((child, level + 1) for child in children)
    return deepest
