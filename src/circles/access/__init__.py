"""Access: attaching points to streets, the routing graph, the searches, service areas and
the saved access state."""
