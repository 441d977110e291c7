"""The ladder of recommendations: level codes, lowest first."""

from __future__ import annotations

from enum import Enum, StrEnum
from operator import attrgetter
from typing import TypeVar

__all__ = ["Level", "RankedStrEnum", "by_rank", "ranked"]


class RankedStrEnum(StrEnum):
    """Codes that compare, sort and ``max()`` in the order they are declared.

    Not as the strings they are: a member also compares with one of the codes
    given as text.  Equality, hashing and the JSON value stay those of the code.
    Each subclass is decorated with :func:`ranked`, which numbers its members.
    """

    _ranks_by_code: dict[str, int]
    _place: int  # the member's rank, set by ranked()

    @property
    def rank(self) -> int:
        """The member's place in declaration order, from 0."""
        return self._place

    # str's ordering would put "police" below "referral"; every comparison that
    # sorted() or max() can make is overridden, so none falls back to it.
    def __lt__(self, other: object) -> bool:
        return self._place < self._rank_of(other, "<")

    def __le__(self, other: object) -> bool:
        return self._place <= self._rank_of(other, "<=")

    def __gt__(self, other: object) -> bool:
        return self._place > self._rank_of(other, ">")

    def __ge__(self, other: object) -> bool:
        return self._place >= self._rank_of(other, ">=")

    # Overriding the comparisons would otherwise leave the class unhashable.
    __hash__ = StrEnum.__hash__

    def _rank_of(self, other: object, operator: str) -> int:
        if type(other) is type(self):
            return other._place
        ranks = self._ranks_by_code
        # Another enum's member is refused even if it shares a code ("none").
        rank = ranks.get(other) if isinstance(other, str) and not isinstance(other, Enum) else None
        if rank is None:
            # Not echoed: a string that is not one of the codes may be anything.
            name = type(self).__name__
            given = (
                "text that is not one of its codes"
                if isinstance(other, str)
                else type(other).__name__
            )
            raise TypeError(
                f"'{operator}' compares a {name} with a {name} or one of its codes "
                f"({', '.join(ranks)}), not with {given}"
            )
        return rank


R = TypeVar("R", bound=type[RankedStrEnum])


# A key for sorted() and max(): the rank number, read in C, instead of the members'
# comparisons, which run Python code.
by_rank = attrgetter("_place")


def ranked(kind: R) -> R:
    """Number the members of ``kind`` in declaration order (their :attr:`rank`)."""
    for place, member in enumerate(kind):
        member._place = place
    kind._ranks_by_code = {member.value: member._place for member in kind}
    return kind


@ranked
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
