"""Planning: scoring proposed sites and recommending new ones on a saved analysis."""
