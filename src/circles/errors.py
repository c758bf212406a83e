"""The few exception types a user can see."""

from __future__ import annotations


class CirclesError(Exception):
    """Base class of every error caused by user input (exit code 2 in the CLI)."""


class InputError(CirclesError):
    """A file the user gave is missing, unreadable, corrupt or has a bad row."""


class StandardsError(CirclesError):
    """A standards / categories YAML file is invalid (file, key and line are named)."""


class EmptyAreaError(CirclesError):
    """The study area holds no usable data (outside the extract, or no walkable network)."""
