"""Question banks in and out: export, import with preview, and publication from the browser."""
