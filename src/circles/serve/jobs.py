"""Long requests (recommend) as jobs: each runs in a thread; the page polls its state."""

from __future__ import annotations

import contextvars
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from circles.errors import CirclesError
from circles.messages import say

JOBS_KEPT = 20  # finished jobs kept for polling, oldest dropped first


@dataclass
class Job:
    """A job's state: ``running``, ``done`` (with ``result``) or ``failed`` (with ``error``);
    ``stage`` says what it does now."""

    id: str
    state: str = "running"
    stage: str = "starting"
    started: float = field(default_factory=time.perf_counter)
    seconds: float = 0.0
    result: dict | None = None
    error: str | None = None

    def as_json(self) -> dict:
        """The job as the page polls it."""
        running = self.state == "running"
        seconds = time.perf_counter() - self.started if running else self.seconds
        return {
            "job": self.id,
            "state": self.state,
            "stage": self.stage,
            "seconds": round(seconds, 1),
            "result": self.result,
            "error": self.error,
        }


class Jobs:
    """The jobs of one server."""

    def __init__(self) -> None:
        self.jobs: dict[str, Job] = {}
        self.lock = threading.Lock()

    def start(self, work: Callable[[Callable[[str], None]], dict]) -> Job:
        """Run ``work(report_stage)`` in a thread, in the caller's context (its language);
        its dict is the job's result. A circles error fails the job with its message; any
        other, with its type (no traceback)."""
        job = Job(uuid.uuid4().hex[:12])

        def run() -> None:
            try:
                job.result = work(lambda stage: setattr(job, "stage", stage))
                job.state = "done"
            except CirclesError as exc:
                job.error, job.state = str(exc), "failed"
            except Exception as exc:  # reported to the page, never as a traceback
                job.error = say("out_internal_error", kind=type(exc).__name__)
                job.state = "failed"
            job.seconds = time.perf_counter() - job.started

        with self.lock:
            finished = [k for k, j in self.jobs.items() if j.state != "running"]
            for key in finished[: max(0, len(self.jobs) - JOBS_KEPT)]:
                del self.jobs[key]
            self.jobs[job.id] = job
        context = contextvars.copy_context()
        threading.Thread(
            target=context.run, args=(run,), name=f"circles-job-{job.id}", daemon=True
        ).start()
        return job

    def get(self, job_id: str) -> Job | None:
        """A job by its id."""
        with self.lock:
            return self.jobs.get(job_id)
