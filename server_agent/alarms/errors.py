"""The alarm errors.

    AlarmError
     └── AlarmNotFound   no alarm with that id (the API answers 404)
"""

from __future__ import annotations


class AlarmError(Exception):
    """Base of the alarm errors."""


class AlarmNotFound(AlarmError):
    """No alarm with that id."""
