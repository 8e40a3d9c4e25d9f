"""Onboarding assignments: who must complete the course, and by when."""
