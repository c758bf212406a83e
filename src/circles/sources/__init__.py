"""Sources: what circles reads — OSM extracts, the planner's files, coordinates, China's
divisions — and the cache of parsed extracts."""
