"""The fair floor's order (workspace.board.speakers.fair_order): pure, so checked with properties."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from workspace.board.speakers import SIDES, fair_order

T0 = datetime(2026, 11, 28, 10, 0, 0)


@dataclass(eq=False)
class Turn:
    """What fair_order reads of a SpeakerTurn."""

    id: int
    person: str
    side: str | None
    raised_at: datetime


def other(side):
    return {"seeking": "providing", "providing": "seeking"}.get(side)


# A waiting list: distinct people, raised at (possibly equal) times, on any side (facilitators and guests too).
hands = st.lists(
    st.tuples(st.sampled_from(["seeking", "providing", "facilitator", None]), st.integers(0, 5)),
    max_size=12,
).map(lambda rows: [Turn(i + 1, f"u:{i + 1}", side, T0 + timedelta(seconds=s)) for i, (side, s) in enumerate(rows)])


@st.composite
def queues(draw):
    waiting = draw(hands)
    shuffled = draw(st.permutations(waiting))  # the order they come from the database does not matter
    spoken = {t.person: draw(st.integers(1, 3)) for t in waiting if draw(st.booleans())}
    spoken["u:999"] = 2  # someone who spoke and is not waiting changes nothing
    last = draw(st.sampled_from(["seeking", "providing", "facilitator", None]))
    return shuffled, spoken, last


def fifo(waiting):
    return sorted(waiting, key=lambda t: (t.raised_at, t.id))


options = st.tuples(st.booleans(), st.booleans())


@settings(max_examples=300, deadline=None)
@given(queues(), options)
def test_the_order_is_a_permutation_of_the_waiting_hands(queue, flags):
    waiting, spoken, last = queue
    alternate, new_first = flags
    order = fair_order(waiting, spoken, last, alternate, new_first)
    assert sorted(t.id for t in order) == sorted(t.id for t in waiting)
    assert len({id(t) for t in order}) == len(order)


@settings(max_examples=200, deadline=None)
@given(queues())
def test_without_options_first_come_first_served(queue):
    waiting, spoken, last = queue
    assert fair_order(waiting, spoken, last, False, False) == fifo(waiting)


@settings(max_examples=200, deadline=None)
@given(queues())
def test_new_speakers_first_puts_everyone_who_has_not_spoken_before_anyone_who_has(queue):
    waiting, spoken, last = queue
    order = fair_order(waiting, spoken, last, False, True)
    flags = [spoken.get(t.person, 0) > 0 for t in order]
    assert flags == sorted(flags), [(t.person, f) for t, f in zip(order, flags, strict=True)]
    # Within each group, arrival order.
    for group in (True, False):
        assert [t for t in order if (spoken.get(t.person, 0) > 0) is group] == [
            t for t in fifo(waiting) if (spoken.get(t.person, 0) > 0) is group
        ]


@settings(max_examples=300, deadline=None)
@given(queues(), st.booleans())
def test_alternating_never_gives_one_side_twice_while_the_other_waits(queue, new_first):
    waiting, spoken, last = queue
    order = fair_order(waiting, spoken, last, True, new_first)
    side = last if last in SIDES else None
    for index, turn in enumerate(order):
        if turn.side not in SIDES:
            continue
        if side is not None and turn.side == side:
            later = [t.person for t in order[index + 1 :] if t.side == other(side)]
            assert not later, f"{turn.person} ({side}) again while {later} ({other(side)}) wait"
        side = turn.side
    # Each side keeps its own order (arrival, or new speakers first): alternating only interleaves.
    base = fifo(waiting)
    if new_first:
        base.sort(key=lambda t: spoken.get(t.person, 0) > 0)
    for group in ("seeking", "providing"):
        assert [t for t in order if t.side == group] == [t for t in base if t.side == group]


def test_alternating_examples():
    s1, s2, p1, f1 = (
        Turn(1, "u:1", "seeking", T0),
        Turn(2, "u:2", "seeking", T0 + timedelta(seconds=1)),
        Turn(3, "u:3", "providing", T0 + timedelta(seconds=2)),
        Turn(4, "u:4", "facilitator", T0 + timedelta(seconds=3)),
    )
    assert fair_order([s1, s2, p1, f1], {}, None, True, False) == [s1, p1, s2, f1]
    assert fair_order([s1, s2, p1, f1], {}, "seeking", True, False) == [p1, s1, s2, f1]
    # A facilitator first in line keeps their place and does not count as a side.
    f0 = Turn(5, "u:5", "facilitator", T0 - timedelta(seconds=1))
    assert fair_order([s1, s2, p1, f0], {}, "seeking", True, False) == [f0, p1, s1, s2]
    # New speakers first: someone who spoke goes after those who did not.
    assert fair_order([s1, s2, p1], {"u:1": 1}, None, False, True) == [s2, p1, s1]
    assert fair_order([], {}, "seeking", True, True) == []
