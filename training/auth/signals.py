"""What sign-in tells the features built on it, without knowing them (blinker signals).

Sent without a sender; receivers run in the sender's transaction (see training/course/signals).
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

# An account was just created at its first sign-in through the company directory (JIT
# provisioning): ``user`` (flushed, with its id) and ``source`` ("ldap"). training/employees
# assigns the course and records the audit event.
account_provisioned = _signals.signal("account-provisioned")
