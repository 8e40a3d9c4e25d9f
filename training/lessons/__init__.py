"""Lessons: the course outline, lesson pages and read acknowledgements."""
