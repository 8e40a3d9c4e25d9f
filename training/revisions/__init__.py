"""When HR revises the norm: preview, publish, retrain exactly on what changed."""
