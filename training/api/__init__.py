"""Read-only JSON API for the company's HR system: /api/v1/, bearer tokens created by HR."""
