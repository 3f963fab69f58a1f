import gc
import threading

import pytest

from greenai_portal.memory import collector_paused


@pytest.fixture(autouse=True)
def collector_on():
    gc.enable()
    yield
    gc.enable()


def test_the_collector_is_off_inside_and_back_on_after():
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_it_comes_back_after_an_error():
    with pytest.raises(ValueError), collector_paused():
        raise ValueError("bad batch")
    assert gc.isenabled()


def test_overlapping_blocks_resume_it_when_the_last_one_ends():
    first_in, second_done = threading.Event(), threading.Event()
    seen = []

    def second():
        first_in.wait()
        with collector_paused():
            pass
        seen.append(gc.isenabled())
        second_done.set()

    thread = threading.Thread(target=second)
    thread.start()
    with collector_paused():
        first_in.set()
        second_done.wait(5)
        # The other block ended first: this one still runs without the collector.
        assert not gc.isenabled()
    thread.join()
    assert seen == [False]
    assert gc.isenabled()


def test_a_collector_someone_turned_off_stays_off():
    gc.disable()
    with collector_paused():
        pass
    assert not gc.isenabled()
