"""Operator roles, ordered: each role may do everything the ones below it may."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    PACKER = "packer"
    DESK = "desk"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return _RANK[self]

    def at_least(self, other: Role) -> bool:
        return self.rank >= other.rank


_RANK = {Role.PACKER: 0, Role.DESK: 1, Role.SUPERVISOR: 2, Role.ADMIN: 3}
