"""Periodic recertification (复训): a short refresher across all lessons renews a certificate."""
