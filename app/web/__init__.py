"""Cross-cutting web concerns: HTMX-aware rendering, error pages, response headers."""
