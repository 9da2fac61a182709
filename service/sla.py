"""The service-level clock of a ticket: due dates from the priority's ServiceLevel, and how a clock reads now.

Decisions:
- Calendar time, around the clock: a service level of 8 hours is 8 hours after creation, nights and weekends
  included (no business-hours calendar: the spec names none, and a calendar would have to be configured per team).
- Due dates are stored on the ticket: ``created_at + level + paused_total``. The clock stops while the ticket is
  waiting on the customer, on hold, resolved or closed (``paused_at`` = since when); when it runs again the due dates
  still running move forward by the stopped time and ``paused_total`` grows by it. A first response already given
  keeps its due date (so a late response stays late). A priority change recomputes both from ``created_at`` with the
  new level and the stopped time so far.
- While stopped, a clock reads as of the moment it stopped ("paused, 2 h left"), and a stopped ticket is never
  breached anew: the breach claim (``service.breach``) only looks at running tickets.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

# When a ServiceLevel row is missing (deleted by hand): the defaults of the data migration, in minutes.
DEFAULT_LEVELS = {
    "urgent": (60, 4 * 60),
    "high": (4 * 60, 24 * 60),
    "normal": (8 * 60, 3 * 24 * 60),
    "low": (24 * 60, 7 * 24 * 60),
}


def due_dates(*, created_at: datetime, first_response_minutes: int, resolution_minutes: int,
              paused_total: timedelta = timedelta()) -> tuple[datetime, datetime]:
    """(first response due, resolution due) of a ticket created at ``created_at`` with the stopped time so far."""
    return (created_at + timedelta(minutes=first_response_minutes) + paused_total,
            created_at + timedelta(minutes=resolution_minutes) + paused_total)


def duration_text(delta: timedelta) -> str:
    """A duration as people read it on a phone: "3 d 4 h", "5 h 20 min", "12 min", "under a minute"."""
    minutes = int(abs(delta).total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{minutes} min" if minutes else "under a minute"


@dataclass(frozen=True)
class Clock:
    """One clock of a ticket (first response or resolution) as of ``now``.

    ``state``: ``met`` (done in time), ``late`` (done after its due date), ``running`` (due ahead), ``overdue``,
    ``paused`` (stopped with time left), ``paused_overdue`` (stopped after its due date) or ``none`` (the ticket was
    resolved or closed without it: no first response)."""

    state: str
    due_at: datetime
    done_at: datetime | None
    left: timedelta  # due minus now (or minus when it was done / stopped); negative when late

    @property
    def breached(self) -> bool:
        return self.state in ("late", "overdue", "paused_overdue")

    @property
    def label(self) -> str:
        text = duration_text(self.left)
        return {
            "met": "met",
            "late": f"met {text} late",
            "running": f"due in {text}",
            "overdue": f"overdue by {text}",
            "paused": f"paused, {text} left",
            "paused_overdue": f"paused, overdue by {text}",
            "none": "none",
        }[self.state]


def clock(*, due_at: datetime, done_at: datetime | None, paused_at: datetime | None,
          now: datetime | None = None, finished: bool = False) -> Clock:
    """How a clock with due date ``due_at`` reads: done at ``done_at``, stopped since ``paused_at``, else at ``now``.
    ``finished``: the ticket is resolved or closed, so a clock not done by then never will be (``none``)."""
    if done_at is None and finished:
        return Clock("none", due_at, None, timedelta())
    if done_at is not None:
        left = due_at - done_at
        return Clock("met" if left >= timedelta() else "late", due_at, done_at, left)
    if paused_at is not None:
        left = due_at - paused_at
        return Clock("paused" if left >= timedelta() else "paused_overdue", due_at, None, left)
    left = due_at - (now or timezone.now())
    return Clock("running" if left >= timedelta() else "overdue", due_at, None, left)
