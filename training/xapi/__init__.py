"""xAPI 1.0.3 learning records: statements built from the evidence rows, queued in the
notification outbox, pushed to the company's LRS, and exported as NDJSON."""
