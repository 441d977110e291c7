"""The ladder of recommendations: level codes, lowest first."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Level"]


class Level(StrEnum):
    """A grade on the ladder.  The codes are part of the public contract.

    Compare grades with :attr:`rank`, never with ``<`` on the codes (they are
    strings).
    """

    NONE = "none"
    REFLECTIVE = "reflective"
    BOUNDARIES = "boundaries"
    CONSULTATION = "consultation"
    REFERRAL = "referral"
    POLICE = "police"

    @property
    def rank(self) -> int:
        """0 for ``none`` up to 5 for ``police``."""
        return _RANKS[self]


_RANKS = {level: rank for rank, level in enumerate(Level)}
