"""Fault, load and bad-input suite (issue 9): nothing lost, nothing doubled, nobody where they do not belong."""
