"""HTTP conventions shared by every service's FastAPI app."""
