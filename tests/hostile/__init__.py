"""Issue 11's "done when": a hostile model cannot win, tried through the real command line."""
