"""The HTTP service (FastAPI, served by uvicorn). Importing it touches no file."""
