"""core/slices.py gives what the one-call forms give (slices made small here so every case crosses them)."""

from __future__ import annotations

from array import array
from itertools import accumulate, count
from operator import add, itemgetter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core import slices


@pytest.fixture(autouse=True)
def small_slices(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(slices, "SLICE", 3)


texts = st.lists(st.text(max_size=4), max_size=20)


@given(texts, st.integers(0, 50))
def test_join_and_ends_are_the_one_call_forms(items: list[str], start: int) -> None:
    assert slices.join("\x1e", items) == "\x1e".join(items)
    assert slices.ends(items, start) == array("q", map(add, accumulate(map(len, items), initial=start), count(0)))


@given(st.lists(st.sampled_from("abcdefg"), max_size=20), st.integers(0, 9))
def test_maps_are_the_one_call_forms_later_duplicates_winning(keys: list[str], start: int) -> None:
    assert slices.slots(keys, start) == dict(zip(keys, count(start)))
    pairs = list(zip(keys, range(len(keys)), strict=True))
    assert slices.by_key(itemgetter(0), pairs) == dict(zip(keys, pairs, strict=True))
