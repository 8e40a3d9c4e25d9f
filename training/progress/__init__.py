"""Each employee's progress in the course, kept as a summary derived from the learning events."""
