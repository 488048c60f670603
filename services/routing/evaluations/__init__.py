"""The applicant's evaluation (好差评, issue 17): one per case and channel, the rectification a poor one
opens for the locality responsible, the appeal a regional supervisor decides, and their figures.

``domain`` holds the rules (no I/O), ``service`` the use cases, ``store`` the tables; the routes are in
services/routing/api/evaluations.py. See docs/evaluations.md.
"""
