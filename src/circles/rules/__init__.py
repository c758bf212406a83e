"""Rules: whom a rule counts and how it measures, the data basis of categories, the four rule
kinds, and the summaries of their results."""
