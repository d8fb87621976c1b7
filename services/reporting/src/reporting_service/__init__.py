"""The reporting service: projections of all events, reports, business metrics."""
