"""One module per resource (FastAPI full-stack template layout)."""
