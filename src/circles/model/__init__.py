"""Model: the walking network, the facilities and the communities with their residents."""
