"""Quiz banks: load and validate YAML banks, draw quizzes and grade attempts (pure, no Flask)."""
