"""Presentation: tables, maps and figures drawn from results; they compute nothing new."""
