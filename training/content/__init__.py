"""Lessons generated from the service norm, and the ``flask content`` commands."""
