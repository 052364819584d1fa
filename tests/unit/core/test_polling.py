import pytest
from scenario_texture_upscale.core.polling import EARLY_CAP, MAX_DELAY, MIN_DELAY, PollSchedule


def test_fast_at_first_then_backing_off_to_a_bound():
    schedule = PollSchedule()
    elapsed, delays = 0.0, []
    while elapsed < 600:
        delay = schedule.next_delay(elapsed)
        delays.append(delay)
        elapsed += delay
    assert delays[0] == 0.5
    assert delays == sorted(delays), "without progress the cadence only slows down"
    assert max(d for d, t in zip(delays, _times(delays), strict=True) if t < 60) <= EARLY_CAP
    assert max(delays) == MAX_DELAY
    late = [d for d, t in zip(delays, _times(delays), strict=True) if t > 120]
    assert 60 / (sum(late) / len(late)) <= 12, "at most 12 polls a minute on a long job"


def _times(delays):
    total, times = 0.0, []
    for d in delays:
        times.append(total)
        total += d
    return times


def test_progress_brings_the_next_poll_to_the_predicted_end():
    schedule = PollSchedule()
    for _ in range(10):
        schedule.next_delay(100.0)  # backed off to the cap
    schedule.next_delay(100.0, 0.5)
    delay = schedule.next_delay(101.0, 0.9)  # 0.4 in 1 s: about 0.25 s left
    assert MIN_DELAY <= delay < 1.0


def test_an_awaited_slot_is_polled_closer_to_the_end():
    """Another job waits for this one's team slot: past the predicted end, polls come every
    0.05 s rather than every 0.25 s, and aim 0.02 s after it rather than 0.1 s."""
    calm, eager = PollSchedule(), PollSchedule()
    for schedule in (calm, eager):
        schedule.next_delay(0.0, 0.0)
        schedule.next_delay(1.0, 0.5)  # half done after a second: the end is due at 2 s
    assert calm.next_delay(1.9, 0.95) == pytest.approx(0.25)
    assert eager.next_delay(1.9, 0.95, eager=True) == pytest.approx(0.12)
    assert calm.next_delay(2.2, 0.99) == pytest.approx(0.25)
    assert eager.next_delay(2.2, 0.99, eager=True) == pytest.approx(0.05)
