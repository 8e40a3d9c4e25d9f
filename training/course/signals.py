"""What the course tells the features built on it, without knowing them (blinker signals).

Signals are sent without a sender. Receivers run in the sender's transaction and process;
caches kept per process (the HR insight, the item analysis) use them to forget what a
change made stale at once, in the process that made it; other workers wait for their TTL.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

# The lessons in force changed: a sync or a published revision installed lessons.
lessons_changed = _signals.signal("lessons-changed")
# The questions that can be drawn changed: a bank sync, a revision's holds, an HR review.
questions_changed = _signals.signal("questions-changed")
# A scheduled job runs (``flask notify send`` from cron): work that is due by the calendar —
# a revision whose effective date has come — happens now if no request did it first.
clock_ticked = _signals.signal("clock-ticked")
# Employees' course records changed beyond their progress counts — a certificate or renewal
# was issued, or a progress row was created late — (``user_ids``: a list), or every progress
# row was rebuilt (``user_ids=None``). HR's maintained standing (``reports.standing``) follows,
# in the same transaction.
progress_changed = _signals.signal("progress-changed")
