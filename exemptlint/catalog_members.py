"""The members of one initiative (reference ids and the policy definitions they name), as the
catalog gives them; imported only when a rule needs members (not on the start-up path)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Member:
    """One member of an initiative: its reference id and, when known, the policy definition."""

    reference_id: str
    definition_id: str | None = None


class Members:
    """The members of one initiative, looked up by reference id as Azure compares them
    (ignoring case)."""

    def __init__(self, members: Iterable[Member]) -> None:
        self._by_key = {member.reference_id.lower(): member for member in members}

    def __len__(self) -> int:
        return len(self._by_key)

    def __iter__(self) -> Iterator[Member]:
        return iter(sorted(self._by_key.values(), key=lambda m: m.reference_id.lower()))

    def get(self, reference_id: str) -> Member | None:
        return self._by_key.get(reference_id.strip().lower())

    @property
    def reference_ids(self) -> frozenset[str]:
        return frozenset(member.reference_id for member in self._by_key.values())

    @property
    def reference_keys(self) -> frozenset[str]:
        """The reference ids in lower case (as Azure compares them)."""
        return frozenset(self._by_key)

    @property
    def definitions_known(self) -> bool:
        """Whether the policy definitions of the members are known (not only their ids)."""
        return any(member.definition_id is not None for member in self._by_key.values())

    def with_definition(self, definition_id: str) -> list[Member]:
        """The members that name ``definition_id`` (compared ignoring case)."""
        key = definition_id.strip().lower()
        return [m for m in self if m.definition_id is not None and m.definition_id.lower() == key]

    def closest(self, reference_id: str, limit: int = 3) -> list[Member]:
        """The members whose reference ids are spelled most like ``reference_id``."""
        import difflib

        key = reference_id.strip().lower()
        found = difflib.get_close_matches(key, list(self._by_key), n=limit, cutoff=0.6)
        return [self._by_key[k] for k in found]


__all__ = ["Member", "Members"]
