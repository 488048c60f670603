"""The four Tongban services. They never import one another."""
