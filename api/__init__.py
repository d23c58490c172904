"""The FastAPI app, the REST compatibility layer and the command line."""
