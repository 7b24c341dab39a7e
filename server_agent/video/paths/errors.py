"""Errors of stream paths.

    ValueError
     └── PathError     a path definition that cannot be used (duplicate hop name, a device
                       hop without a device, a leg the stream does not have, an unknown device)
"""

from __future__ import annotations


class PathError(ValueError):
    """The message says which hop is wrong and how to fix it."""
