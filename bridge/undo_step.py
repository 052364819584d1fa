"""A main-thread change run as an operator of its own, so that it is one undo step (and can be
redone), with its outcome handed back to the code that ran it: ``bpy.ops`` returns only a
status set. The operator's execute hands its outcome back under the job's id; ``run`` calls
the operator and takes it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class UndoStep(Generic[T]):
    def __init__(self) -> None:
        self._outcomes: dict[str, T] = {}

    def hand_back(self, local_id: str, outcome: T) -> None:
        """From the operator's execute: what it did for the job ``local_id``."""
        self._outcomes[local_id] = outcome

    def run(self, local_id: str, call: Callable[[], object], failed: Callable[[str], T],
            missing: str) -> T:
        """Calls the operator (``call``) and returns what it handed back; ``failed(reason)``
        when Blender refused to run it, or when it handed nothing back (``missing``)."""
        try:
            call()
        except RuntimeError as exc:
            return failed(str(exc))
        found = self._outcomes.pop(local_id, None)
        return found if found is not None else failed(missing)
