"""The course as data: sections and katas (katas/*/info.toml), mutants
(reference/mutants/*.toml) and the curriculum (checker/curriculum.toml).

Everything else (the checker's commands, verify, the pytest plugin) reads the
course through this module, so each fact is written once.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path

import tomllib

from checker import paths


class CatalogError(Exception):
    """The course metadata is inconsistent (a maintainer's mistake, not a learner's)."""


def read_toml(path: Path) -> dict:
    """A TOML file as plain data (tomllib: ten times faster than tomlkit, which the checker
    keeps for the one file it rewrites, progress.toml)."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise CatalogError(f"{paths.rel(path)} is not valid TOML: {exc}") from exc


@dataclass(frozen=True)
class Mutant:
    kata: str  # kata id, e.g. "01_fundamentals/activations"
    id: str
    mistake: str  # one learner-facing sentence
    find: str
    replace: str


@dataclass(frozen=True)
class Kata:
    section: str  # "01_fundamentals"
    name: str  # "activations"
    title: str
    covers: tuple[str, ...]
    requires: tuple[str, ...]  # kata ids
    hints: tuple[str, ...]
    framework: str = "numpy"  # "numpy" katas may not import torch
    training: bool = False  # slow end-to-end training; skipped by verify --quick
    timeout: int = 90  # seconds for the whole kata's test run
    buggy: bool = False  # the stub is working code with seeded bugs, not NotImplementedError
    warm: tuple[str, ...] = ()  # slow imports of its tests, done once before the runner forks
    # A package kata is one module of a package the learner grows across a section
    # (09_autograd/minigrad/tensor.py); None for the usual one-file kata.
    package: str | None = None
    mutants: tuple[Mutant, ...] = field(default=(), compare=False)

    @property
    def id(self) -> str:
        return f"{self.section}/{self.name}"

    @property
    def relpath(self) -> str:
        """Path of the implementation module inside any implementation root."""
        if self.package:
            return f"{self.section}/{self.package}/{self.name}.py"
        return f"{self.section}/{self.name}.py"

    @property
    def stub_path(self) -> Path:
        return paths.KATAS / self.relpath

    @property
    def test_path(self) -> Path:
        return paths.KATAS / self.section / f"test_{self.name}.py"

    @property
    def solution_path(self) -> Path:
        return paths.SOLUTIONS / self.relpath

    @property
    def shipped_stub_path(self) -> Path:
        return paths.STUBS / self.relpath

    def source_in(self, root: Path) -> Path:
        return root / self.relpath


@dataclass(frozen=True)
class Section:
    name: str  # "01_fundamentals"
    title: str
    katas: tuple[Kata, ...]


@dataclass(frozen=True)
class Item:
    id: str
    title: str
    group: str  # heading it sits under, e.g. "5.1 Neural Network Fundamentals"
    kind: str  # "checklist" | "project" | "self-assessment"
    parent: str | None
    reading: str | None  # reason, when the learner ticks it by hand
    planned: str | None  # section that will prove it, when not built yet


@dataclass(frozen=True)
class Course:
    sections: tuple[Section, ...]
    items: tuple[Item, ...]

    @functools.cached_property
    def katas(self) -> tuple[Kata, ...]:
        return tuple(k for s in self.sections for k in s.katas)

    def kata(self, name: str) -> Kata:
        """Find a kata by id ("01_fundamentals/activations") or unique short name."""
        name = name.strip().removesuffix(".py").replace("\\", "/")
        name = name.removeprefix("katas/")
        for k in self.katas:
            if name in (k.id, k.name) or name.endswith("/" + k.name) and name.startswith(k.section):
                matches = [k]
                break
        else:
            matches = [k for k in self.katas if k.name.startswith(name) or name in k.id]
        if len(matches) == 1:
            return matches[0]
        known = ", ".join(k.name for k in self.katas)
        if not matches:
            import difflib

            close = difflib.get_close_matches(name, [k.name for k in self.katas], n=1)
            maybe = f" Did you mean {close[0]!r}?" if close else ""
            raise KeyError(f"no kata called {name!r}.{maybe} Katas: {known}")
        raise KeyError(f"{name!r} could mean {', '.join(k.id for k in matches)}: say which")

    def items_for(self, kata: Kata) -> list[Item]:
        return [i for i in self.items if i.id in kata.covers]

    def katas_for(self, item: Item) -> list[Kata]:
        """Katas that prove an item, its children's included."""
        ids = {item.id} | {c.id for c in self.items if c.parent == item.id}
        return [k for k in self.katas if ids & set(k.covers)]


def _section(folder: Path, mutants: dict[str, list[Mutant]]) -> Section:
    info = read_toml(folder / "info.toml")
    katas = []
    for entry in info.get("kata", []):
        kid = f"{folder.name}/{entry['name']}"
        requires = tuple(r if "/" in r else f"{folder.name}/{r}" for r in entry.get("requires", []))
        katas.append(
            Kata(
                section=folder.name,
                name=entry["name"],
                title=entry["title"],
                covers=tuple(entry.get("covers", [])),
                requires=requires,
                hints=tuple(entry.get("hints", [])),
                framework=entry.get("framework", "numpy"),
                training=bool(entry.get("training", False)),
                timeout=int(entry.get("timeout", 300 if entry.get("training") else 90)),
                buggy=bool(entry.get("buggy", False)),
                warm=tuple(entry.get("warm", [])),
                package=entry.get("package"),
                mutants=tuple(mutants.get(kid, [])),
            )
        )
    return Section(name=folder.name, title=info["title"], katas=tuple(katas))


def _mutants() -> dict[str, list[Mutant]]:
    """reference/mutants/<section>/<kata>.toml: [[mutant]] tables (id, mistake, find, replace)."""
    found: dict[str, list[Mutant]] = {}
    for path in sorted(paths.MUTANTS.glob("*/*.toml")):
        kid = f"{path.parent.name}/{path.stem}"
        for m in read_toml(path).get("mutant", []):
            found.setdefault(kid, []).append(
                Mutant(
                    kata=kid, id=m["id"], mistake=m["mistake"], find=m["find"], replace=m["replace"]
                )
            )
    return found


def _items() -> list[Item]:
    data = read_toml(paths.CURRICULUM)
    items = []
    for group in data["group"]:
        for entry in group["item"]:
            items.append(
                Item(
                    id=entry["id"],
                    title=entry["title"],
                    group=group["title"],
                    kind=group.get("kind", "checklist"),
                    parent=entry.get("parent"),
                    reading=entry.get("reading"),
                    planned=entry.get("planned", group.get("planned")),
                )
            )
    return items


@functools.lru_cache(maxsize=1)
def course() -> Course:
    mutants = _mutants()
    sections = [
        _section(folder, mutants)
        for folder in sorted(paths.KATAS.iterdir())
        if folder.is_dir() and (folder / "info.toml").exists()
    ]
    return Course(sections=tuple(sections), items=tuple(_items()))


def validate(c: Course) -> list[str]:
    """Every way the metadata can disagree with itself or with the files. Empty when sound."""
    problems: list[str] = []
    item_ids = {i.id for i in c.items}
    kata_ids = {k.id for k in c.katas}
    if len(item_ids) != len(c.items):
        problems.append("curriculum.toml: duplicate item ids")
    for i in c.items:
        if i.parent and i.parent not in item_ids:
            problems.append(f"curriculum item {i.id}: unknown parent {i.parent}")
        proven = [k for k in c.katas if i.id in k.covers]
        if not proven and not i.reading and not i.planned:
            children = [x for x in c.items if x.parent == i.id]
            if not children:
                problems.append(
                    f"curriculum item {i.id} ({i.title}): no kata proves it, and it is "
                    "marked neither reading-only nor planned"
                )
        if proven and i.planned:
            problems.append(
                f"curriculum item {i.id}: marked planned but katas prove it: "
                + ", ".join(k.id for k in proven)
            )
    seen_names: set[str] = set()
    for k in c.katas:
        where = f"kata {k.id}"
        if k.name in seen_names:
            problems.append(f"{where}: another section has a kata of the same name")
        seen_names.add(k.name)
        if not k.covers:
            problems.append(f"{where}: covers no curriculum item")
        for item in k.covers:
            if item not in item_ids:
                problems.append(f"{where}: covers unknown curriculum item {item!r}")
        for req in k.requires:
            if req not in kata_ids:
                problems.append(f"{where}: requires unknown kata {req!r}")
        if not 2 <= len(k.hints) <= 3:
            problems.append(f"{where}: has {len(k.hints)} hints (2-3 layered hints expected)")
        if len(k.mutants) < 3:
            problems.append(f"{where}: has {len(k.mutants)} mutants (at least 3 expected)")
        if k.framework not in ("numpy", "torch"):
            problems.append(f"{where}: framework must be numpy or torch, not {k.framework!r}")
        for p in (k.stub_path, k.test_path, k.solution_path, k.shipped_stub_path):
            if not p.exists():
                problems.append(f"{where}: missing {paths.rel(p)}")
        ids = [m.id for m in k.mutants]
        if len(set(ids)) != len(ids):
            problems.append(f"{where}: duplicate mutant ids")
    for m_kata in _mutants():
        if m_kata not in kata_ids:
            problems.append(f"reference/mutants: mutants for unknown kata {m_kata!r}")
    # Stray files: every module in a section folder belongs to a kata.
    for s in c.sections:
        names = {k.name for k in s.katas}
        packages = {k.package for k in s.katas if k.package}
        for root in (paths.KATAS, paths.SOLUTIONS, paths.STUBS):
            folder = root / s.name
            for f in folder.glob("*.py") if folder.exists() else []:
                stem = f.stem.removeprefix("test_")
                if root == paths.KATAS and f.name == "conftest.py":
                    continue
                if stem not in names:
                    problems.append(f"stray file {paths.rel(f)}: no kata {stem!r} in info.toml")
            for package in packages:
                members = {k.name for k in s.katas if k.package == package}
                init = folder / package / "__init__.py"
                if not init.exists():
                    problems.append(f"package {package}: missing {paths.rel(init)}")
                for f in (folder / package).glob("*.py"):
                    if f.stem not in members and f.name != "__init__.py":
                        problems.append(
                            f"stray file {paths.rel(f)}: no kata {f.stem!r} of package "
                            f"{package} in info.toml"
                        )
        for package in packages:
            inits = [r / s.name / package / "__init__.py" for r in (paths.SOLUTIONS, paths.STUBS)]
            if all(p.exists() for p in inits) and inits[0].read_bytes() != inits[1].read_bytes():
                problems.append(
                    f"package {package}: {paths.rel(inits[0])} and {paths.rel(inits[1])} differ "
                    "(the package's __init__.py ships as it is)"
                )
    return problems
