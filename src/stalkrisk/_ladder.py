"""The ladder of recommendations: level codes, lowest first."""

from __future__ import annotations

from enum import Enum, StrEnum
from functools import cache

__all__ = ["Level", "RankedStrEnum"]


class RankedStrEnum(StrEnum):
    """Codes that compare, sort and ``max()`` in the order they are declared.

    Not as the strings they are: a member also compares with one of the codes
    given as text.  Equality, hashing and the JSON value stay those of the code.
    """

    @property
    def rank(self) -> int:
        """The member's place in declaration order, from 0."""
        return _ranks(type(self))[self.value]

    # str's ordering would put "police" below "referral"; every comparison that
    # sorted() or max() can make is overridden, so none falls back to it.
    def __lt__(self, other: object) -> bool:
        return self.rank < self._rank_of(other, "<")

    def __le__(self, other: object) -> bool:
        return self.rank <= self._rank_of(other, "<=")

    def __gt__(self, other: object) -> bool:
        return self.rank > self._rank_of(other, ">")

    def __ge__(self, other: object) -> bool:
        return self.rank >= self._rank_of(other, ">=")

    # Overriding the comparisons would otherwise leave the class unhashable.
    __hash__ = StrEnum.__hash__

    def _rank_of(self, other: object, operator: str) -> int:
        ranks = _ranks(type(self))
        # Another enum's member is refused even if it shares a code ("none").
        plain = isinstance(other, str) and not isinstance(other, Enum)
        rank = ranks.get(str(other)) if plain or type(other) is type(self) else None
        if rank is None:
            # Not echoed: a string that is not one of the codes may be anything.
            name = type(self).__name__
            given = (
                "text that is not one of its codes"
                if isinstance(other, str)
                else (type(other).__name__)
            )
            raise TypeError(
                f"'{operator}' compares a {name} with a {name} or one of its codes "
                f"({', '.join(ranks)}), not with {given}"
            )
        return rank


@cache
def _ranks(kind: type[RankedStrEnum]) -> dict[str, int]:
    return {member.value: rank for rank, member in enumerate(kind)}


class Level(RankedStrEnum):
    """A grade on the ladder.  The codes are part of the public contract.

    Levels compare, sort and ``max()`` in ladder order (``Level.POLICE >
    Level.REFERRAL``), not as the strings they are; a level also compares with
    a ladder code given as text (``level >= "consultation"``).  Equality, hashing
    and the JSON value stay those of the code.  :attr:`rank` is 0 for ``none``
    up to 5 for ``police``.
    """

    NONE = "none"
    REFLECTIVE = "reflective"
    BOUNDARIES = "boundaries"
    CONSULTATION = "consultation"
    REFERRAL = "referral"
    POLICE = "police"
