"""The operators' dashboard: live events of every locality, cases, deadlines, deliveries, lag."""
