"""Reading chat: the interest classifier, its heads and training text, clause and comparison rules, reactions."""
