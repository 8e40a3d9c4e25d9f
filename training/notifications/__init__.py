"""Notifications: the outbox, e-mail and group-robot delivery, reminders and digests.

Features queue a notification in the transaction of the event that causes it
(``messages.invitation``, ``messages.retraining`` …); ``flask notify send`` plans the day's
reminders and digests and sends what is due, exactly once, outside quiet hours.
"""
