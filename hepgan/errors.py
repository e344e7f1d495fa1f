"""Errors a user can act on.

Every error raised for bad user input (a missing file, a branch that does not
exist, a flag out of range) derives from :class:`HepganError`. The CLI prints
its message without a traceback and exits with status 2; the service turns it
into a 4xx response. Messages say what was wrong, where, and what was expected.
"""

from __future__ import annotations


class HepganError(Exception):
    """Base class of the errors a user can fix; the message is shown as is."""


class InputFileError(HepganError):
    """An input file is missing, unreadable, truncated, or lacks an object or branch.

    The message names the file and, where known, the object (tree, branch, dataset).
    """


class ConfigError(HepganError):
    """A setting, flag or configuration file value is invalid; the message names it."""


class ArtefactError(HepganError):
    """A model artefact folder is incomplete, tampered with, or of an unknown format."""
