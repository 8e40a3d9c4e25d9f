"""Audit log: every HR action, append-only."""
