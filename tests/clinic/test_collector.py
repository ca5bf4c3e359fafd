"""The collector is held off for a block and given back as it was found, whatever happens in the block."""

from __future__ import annotations

import gc

import pytest

from clinic.collector import collector_held


@pytest.fixture
def collector_on():
    assert gc.isenabled()
    yield
    gc.enable()  # never leave the test session without it, whatever a failing test did


def test_the_collector_is_off_inside_and_back_on_after(collector_on):
    # when
    with collector_held():
        inside = gc.isenabled()
    # then
    assert (inside, gc.isenabled()) == (False, True)


def test_an_error_in_the_block_still_gives_the_collector_back(collector_on):
    # when
    with pytest.raises(RuntimeError), collector_held():
        raise RuntimeError("the sweep failed")
    # then
    assert gc.isenabled()


def test_a_nested_hold_leaves_it_off_until_the_outer_one_ends(collector_on):
    # when
    with collector_held():
        with collector_held():
            pass
        between = gc.isenabled()
    # then
    assert (between, gc.isenabled()) == (False, True)


def test_a_collector_someone_else_turned_off_stays_off(collector_on):
    # given
    gc.disable()
    # when
    with collector_held():
        pass
    # then
    assert not gc.isenabled()
