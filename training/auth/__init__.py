"""Accounts: login, logout, password changes, server-side sessions and throttling."""
