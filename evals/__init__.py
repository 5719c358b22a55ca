"""The eval harness: a corpus of optimization tasks, and the code that scores a provider on them."""
