"""Staff refresh: self-quizzes scheduled with FSRS."""
