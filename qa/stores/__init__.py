"""Vector store backends besides the default exact FAISS store (qa/store.py holds the Protocol and the factory)."""
