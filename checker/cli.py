"""The checker's command line: progress, next, hint, watch, verify, reset, data."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from checker import catalog


def _katas(course: catalog.Course, section: str | None, names: list[str] | None):
    katas = list(course.katas)
    if section:
        sections = [s.name for s in course.sections]
        match = [s for s in sections if s == section or s.startswith(section) or
                 s.split("_", 1)[-1] == section]
        if not match:
            raise KeyError(f"no section {section!r}. Sections: {', '.join(sections)}")
        katas = [k for k in katas if k.section in match]
    if names:
        katas = [course.kata(n) for n in names]
    return katas


def cmd_verify(args) -> int:
    from checker.verify import verify

    course = catalog.course()
    katas = _katas(course, args.section, args.kata)
    ok = verify(course, katas, quick=args.quick, json_path=args.json)
    return 0 if ok else 1


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m checker", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    v = sub.add_parser("verify", help="prove the repository: solutions pass, stubs fail, "
                       "mutants are caught")
    v.add_argument("--section", help="only this section (e.g. 01 or 01_fundamentals)")
    v.add_argument("--kata", action="append", help="only this kata (repeatable)")
    v.add_argument("--quick", action="store_true",
                   help="skip training tests and mutants (under 60 s)")
    v.add_argument("--json", type=Path, metavar="FILE", help="write a per-kata report here")
    v.set_defaults(func=cmd_verify)
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
