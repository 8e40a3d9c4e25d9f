"""The course as a whole: the norm version in force, its lessons, what "completed" means.

Every feature that needs to know whether someone completed a lesson or the course asks this
package; nothing here imports a feature package (only ``training.db``, ``training.extensions``
and the pure ``training.norm``). Lessons, quizzes, practice, reports and revisions build on
it. Where this package must tell features that something happened (the lessons in force
changed), it sends a signal from ``training.course.signals``.
"""
