"""``circles serve``: a local planning workbench (score sites, build scenarios) in a browser."""
