"""progress.toml: what the tests said last time, and what only the learner can author.

Kata results are recomputed from the tests; reading ticks, notes and hints used are
the learner's and are kept. Writes are atomic and keep comments (tomlkit). An
unreadable file is backed up beside the other backups and rebuilt, with a message.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

import tomlkit
from tomlkit.items import Table

from checker import paths
from checker.catalog import Course

HEADER = """\
dlkatas progress. `python -m checker progress` rewrites the results here from the
tests (tests are the truth). Yours to edit, and kept: comments, `notes`, and `done`
on reading-only items (set it to true once you have read the material).
"""


def backup_dir() -> Path:
    return paths.STATE / "backups"


def backup(path: Path, label: str) -> Path:
    """Copy a file into .dlkatas/backups with a timestamp; returns the copy's path."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = backup_dir() / f"{label}-{stamp}{path.suffix}"
    n = 1
    while target.exists():
        target = backup_dir() / f"{label}-{stamp}-{n}{path.suffix}"
        n += 1
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(path, target)
    return target


def fresh(course: Course) -> tomlkit.TOMLDocument:
    doc = tomlkit.document()
    for line in HEADER.splitlines():
        doc.add(tomlkit.comment(line))
    doc.add(tomlkit.nl())
    katas = tomlkit.table(is_super_table=True)
    for k in course.katas:
        t = tomlkit.table()
        t["status"] = "not started"
        t["hints_used"] = 0
        t["notes"] = ""
        katas[k.id] = t
    doc["katas"] = katas
    items = tomlkit.table(is_super_table=True)
    for i in course.items:
        t = tomlkit.table()
        t["title"] = i.title
        t["done"] = False
        if i.reading:
            t["reading"] = True
        elif i.planned:
            t["planned"] = True
        items[i.id] = t
    doc["items"] = items
    return doc


def load(course: Course, path: Path | None = None, echo=print) -> tomlkit.TOMLDocument:
    """Read progress.toml, adding what the course gained since; rebuild it if unreadable."""
    path = path or paths.PROGRESS
    if not path.exists():
        return fresh(course)
    try:
        doc = tomlkit.parse(path.read_text(encoding="utf-8"))
        _check_shape(doc)
    except Exception as exc:  # any parse or shape problem: keep the file, start anew
        saved = backup(path, "progress")
        echo(
            f"checker: {paths.rel(path)} could not be read ({str(exc).splitlines()[0]}).\n"
            f"         It is saved as {paths.rel(saved)}; a fresh one is written in its place.\n"
            "         Your katas are untouched: their results come back from the tests.",
            file=sys.stderr,
        )
        return fresh(course)
    base = fresh(course)
    for section in ("katas", "items"):
        if section not in doc:
            doc[section] = base[section]
            continue
        for key, table in base[section].items():
            if key not in doc[section]:
                doc[section][key] = table
            else:
                for field, value in table.items():
                    doc[section][key].setdefault(field, value)
    return doc


def _check_shape(doc) -> None:
    for section in ("katas", "items"):
        if section in doc and not isinstance(doc[section], Table):
            raise ValueError(f"[{section}] must be a table")
        for key, value in doc.get(section, {}).items():
            if not isinstance(value, Table):
                raise ValueError(f"{section}.{key} must be a table")
    for key, value in doc.get("katas", {}).items():
        if not isinstance(value.get("hints_used", 0), int):
            raise ValueError(f"katas.{key}.hints_used must be a whole number")


def save(doc: tomlkit.TOMLDocument, path: Path | None = None) -> None:
    """Write atomically: a crash mid-write leaves the old file, never half a file."""
    path = path or paths.PROGRESS
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(tomlkit.dumps(doc), encoding="utf-8")
    os.replace(tmp, path)


def kata_entry(doc, kata_id: str):
    return doc["katas"][kata_id]
