"""Service-norm training application."""
