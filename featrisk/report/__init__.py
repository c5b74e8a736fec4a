"""HTML and JSON reports (renders tables the API computed)."""
