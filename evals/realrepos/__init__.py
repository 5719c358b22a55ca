"""The real-repo benchmark: Evolver on pinned sdists of real libraries (see README.md here)."""
