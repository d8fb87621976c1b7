import asyncio
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from servicekit.clock import FixedClock
from servicekit.scheduling import every, run_once


async def test_a_job_runs_for_the_clock_s_now_and_a_failure_is_not_fatal(caplog):
    moments = []

    async def remember(runtime, now):
        moments.append(now)
        return len(moments)

    async def broken(runtime, now):
        raise ValueError("boom")

    clock = FixedClock(datetime(2027, 4, 27, 8, tzinfo=UTC))
    runtime = SimpleNamespace(clock=clock)
    assert await run_once(runtime, remember) == 1
    clock.advance(timedelta(days=1))
    await run_once(runtime, remember)
    assert moments == [datetime(2027, 4, 27, 8, tzinfo=UTC), datetime(2027, 4, 28, 8, tzinfo=UTC)]
    assert await run_once(runtime, broken) is None
    assert "scheduled job failed" in caplog.text


async def test_every_keeps_running_until_cancelled():
    runs = asyncio.Event()
    count = 0

    async def job(runtime, now):
        nonlocal count
        count += 1
        if count == 3:
            runs.set()

    task = asyncio.create_task(
        every(timedelta(milliseconds=10), job)(
            SimpleNamespace(clock=FixedClock(datetime(2027, 1, 1, tzinfo=UTC)))
        )
    )
    await asyncio.wait_for(runs.wait(), 5)
    task.cancel()
    assert count >= 3
