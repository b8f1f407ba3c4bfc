"""What the current test is doing, for messages: the kata, the seed, the last call."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Context:
    kata: str | None = None  # short kata name, for "python -m checker hint <kata>"
    seed: int | None = None
    call: str | None = None  # "softmax(x: float32 (4, 7), axis=-1)"
    inputs: str | None = None  # "x: float32 (4, 7)"
    notes: list[str] = field(default_factory=list)  # shown in pytest's summary


current = Context()
session_notes: list[str] = []


def reset(kata: str | None) -> None:
    global current
    current = Context(kata=kata)


def note(message: str) -> None:
    """Tell the learner something that is not a failure (which data or layers a test used)."""
    if message not in session_notes:
        session_notes.append(message)
