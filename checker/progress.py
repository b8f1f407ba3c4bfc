"""Where the learner stands: kata results (from the tests), checklist ticks, what next."""

from __future__ import annotations

import hashlib
import re
import sys
from dataclasses import dataclass

from checker import paths, runner
from checker.catalog import Course, Item, Kata

MARK = {
    runner.PASSING: "[x]",
    runner.FAILING: "[~]",
    runner.NOT_STARTED: "[ ]",
    runner.ERROR: "[!]",
}


@dataclass
class KataState:
    status: str
    detail: str = ""
    ran: bool = False  # run now (False: pristine stub or unchanged since the last run)
    skipped: int = 0  # tests that did not run (a dataset not downloaded): they prove nothing


def fingerprint(k: Kata) -> str:
    h = hashlib.sha256()
    for p in (k.stub_path, k.test_path):
        h.update(p.read_bytes() if p.exists() else b"<missing>")
    return h.hexdigest()[:16]


def is_pristine(k: Kata) -> bool:
    return (
        k.stub_path.exists()
        and k.shipped_stub_path.exists()
        and k.stub_path.read_bytes() == k.shipped_stub_path.read_bytes()
    )


def summarize(r: runner.Result) -> str:
    if r.status == runner.PASSING:
        if r.skipped:  # a test waiting for a dataset: passing, but say what did not run
            test = paths.rel(r.job.kata.test_path) if r.job.kata else "the tests"
            return f"{r.passed} tests pass, {r.skipped} skipped (why: pytest {test} -rs)"
        return f"{r.passed} tests pass"
    if r.status == runner.FAILING:
        name, msg = r.failures[0] if r.failures else ("", "")
        return f"{r.failed} of {r.total} tests fail; first: {name}: {msg}"[:160]
    if r.status == runner.ERROR:
        return r.detail[:160]
    return ""


def collect(
    course: Course, doc, katas: list[Kata] | None = None, rerun: bool = False, echo=print
) -> dict[str, KataState]:
    """Each kata's status: run the tests of every kata that changed since its last run."""
    katas = katas or list(course.katas)
    states: dict[str, KataState] = {}
    jobs = []
    for k in katas:
        entry = doc["katas"][k.id]
        if not k.stub_path.exists():
            states[k.id] = KataState(
                runner.ERROR,
                f"{paths.rel(k.stub_path)} is missing: python -m checker reset {k.name}",
            )
        elif is_pristine(k):
            states[k.id] = KataState(runner.NOT_STARTED)
        elif not rerun and entry.get("fingerprint") == fingerprint(k) and "status" in entry:
            states[k.id] = KataState(
                str(entry["status"]),
                str(entry.get("detail", "")),
                skipped=int(entry.get("skipped", 0)),
            )
        else:
            jobs.append(runner.Job(k, "learner", "learner"))
    if jobs:
        echo(
            f"Running the tests of {len(jobs)} kata{'s' if len(jobs) > 1 else ''} "
            "that changed since the last run...",
            file=sys.stderr,
        )
        for r in runner.run(jobs):
            states[r.job.kata.id] = KataState(r.status, summarize(r), ran=True, skipped=r.skipped)
    for k in katas:
        s = states[k.id]
        entry = doc["katas"][k.id]
        entry["status"] = s.status
        if s.detail:
            entry["detail"] = s.detail
        elif "detail" in entry:
            del entry["detail"]
        if s.skipped:
            entry["skipped"] = s.skipped
        elif "skipped" in entry:
            del entry["skipped"]
        entry["fingerprint"] = fingerprint(k) if k.stub_path.exists() else ""
    return states


def item_done(course: Course, item: Item, states: dict[str, KataState], doc) -> bool | None:
    """True/False; None when the item is planned (nothing can prove it yet)."""
    if item.reading:
        return bool(doc["items"][item.id].get("done", False))
    if item.planned:
        return None
    children = [c for c in course.items if c.parent == item.id]
    own = [k for k in course.katas if item.id in k.covers]
    # A test skipped for want of its data proves nothing: the item waits for it to run.
    katas_ok = all(proven(states.get(k.id, KataState(""))) for k in own)
    kids = [item_done(course, c, states, doc) for c in children]
    return (
        katas_ok and all(kid is True or kid is None for kid in kids) and (bool(own) or bool(kids))
    )


def proven(state: KataState) -> bool:
    return state.status == runner.PASSING and not state.skipped


def tick_items(course: Course, states, doc) -> None:
    for item in course.items:
        done = item_done(course, item, states, doc)
        if not item.reading:
            doc["items"][item.id]["done"] = bool(done)


def next_kata(course: Course, states: dict[str, KataState]) -> Kata | None:
    """The first kata in course order that does not pass and whose prerequisites do."""
    todo = [k for k in course.katas if states[k.id].status != runner.PASSING]
    for k in todo:
        if all(states[r].status == runner.PASSING for r in k.requires):
            return k
    return todo[0] if todo else None


def next_block(k: Kata | None) -> str:
    if k is None:
        return "Every kata passes. Tick the reading items in progress.toml, and read the solutions."
    return (
        f"Next: {k.name}: {k.title}\n"
        f"  open  {paths.rel(k.stub_path)}\n"
        f"  test  pytest {paths.rel(k.test_path)}\n"
        f"  hint  python -m checker hint {k.name}"
    )


def report(course: Course, states: dict[str, KataState], doc, color: bool = False) -> str:
    def paint(text: str, code: str) -> str:
        return f"\033[{code}m{text}\033[0m" if color else text

    colors = {
        runner.PASSING: "32",
        runner.FAILING: "33",
        runner.ERROR: "31",
        runner.NOT_STARTED: "2",
    }
    out = ["dlkatas: where you stand (tests are the truth)", ""]
    built = {s.name for s in course.sections}
    for s in course.sections:
        passing = sum(states[k.id].status == runner.PASSING for k in s.katas)
        out.append(paint(f"{s.name}  {s.title}: {passing} of {len(s.katas)} katas passing", "1"))
        for k in s.katas:
            st = states[k.id]
            line = f"  {MARK[st.status]} {k.name:22} {st.status:12}"
            if st.detail and (st.status != runner.PASSING or st.skipped):
                line += f" {st.detail}"
            out.append(paint(line.rstrip(), colors[st.status]))
    planned = sorted(
        {name for i in course.items for name in re.findall(r"\b\d\d_[a-z]+", i.planned or "")}
        - built
    )
    if planned:
        out.append(paint(f"Planned sections: {', '.join(sorted(planned))}", "2"))
    groups: dict[str, list[Item]] = {}
    for i in course.items:
        groups.setdefault(i.group, []).append(i)
    for title, items in groups.items():
        done = [item_done(course, i, states, doc) for i in items]
        provable = [d for d in done if d is not None]
        head = f"{title}: {sum(d is True for d in done)} of {len(items)}"
        if not provable:
            head = f"{title}: planned ({items[0].planned})"
        out += ["", paint(head, "1")]
        for i, d in zip(items, done):
            indent = "      " if i.parent else "  "
            mark = "[x]" if d else ("[-]" if d is None else "[ ]")
            if i.reading:
                why = "reading: set done = true in progress.toml"
            elif i.planned:
                why = "" if head.endswith(")") else "planned"
            else:
                katas = [k for k in course.katas if i.id in k.covers]
                why = ", ".join(k.name for k in katas)
                waiting = [k.name for k in katas if states[k.id].skipped]
                if waiting:
                    why += f" (waits on skipped tests: {', '.join(waiting)})"
            line = f"{indent}{mark} {i.title}"
            out.append(
                paint(f"{line:70} {why}".rstrip(), "2" if d is None else ("32" if d else "0"))
            )
    out += ["", next_block(next_kata(course, states))]
    return "\n".join(out)
