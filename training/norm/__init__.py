"""Parse a service-norm document into a tree of numbered sections (pure, no Flask)."""
