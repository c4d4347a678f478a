"""Scoring recommendations: the recommender and its blend, sequential rules, title linking, A/B variants."""
