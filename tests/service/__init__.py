"""The HTTP service and its client against a real uvicorn on 127.0.0.1."""
