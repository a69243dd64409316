"""Central service (SYNC.md): FastAPI app, storage engines, operator CLI."""
