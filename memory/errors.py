"""Errors a user can cause, each with a one-line message, a fix and its own exit code."""

from __future__ import annotations


class HearthError(Exception):
    """A problem the user can fix; the CLI prints it as one line and exits with `exit_code`."""

    exit_code = 1


class ConfigError(HearthError):
    """config.toml or a HEARTH_* variable is malformed or names an unknown setting."""

    exit_code = 3


class ModelNotFoundError(HearthError):
    """The GGUF file named does not exist or cannot be read."""

    exit_code = 4


class ModelInvalidError(HearthError):
    """The file is not a GGUF, or is truncated or corrupt."""

    exit_code = 5


class DataDirNewerError(HearthError):
    """The data dir was written by a newer Hearth."""

    exit_code = 6


class DataDirLockedError(HearthError):
    """Another Hearth process is writing to this data dir."""

    exit_code = 7


class EmbedderChangedError(HearthError):
    """The embedding model differs from the one the memory index was built with."""

    exit_code = 8


class NotFoundError(HearthError):
    """A session, message or memory id that does not exist."""

    exit_code = 9


class StorageError(HearthError):
    """A write to the data dir failed (disk full, permissions); nothing was reported as saved."""

    exit_code = 10


class ExportError(HearthError):
    """An export could not be made as asked (the file exists, redaction failed); nothing written."""

    exit_code = 11


class FeedbackError(HearthError):
    """A feedback command that cannot apply as given (an empty or unchanged edit)."""

    exit_code = 12


class MessageTooLongError(HearthError):
    """A message past `chat.max_message_chars` (a 10 MB paste): refused, nothing saved."""

    exit_code = 13


class DatasetError(HearthError):
    """The file to import is missing, not JSON, or not in the format named."""

    exit_code = 14


class ConfirmationError(HearthError):
    """A forget or purge that needs --yes (no terminal to ask on), or was not confirmed."""

    exit_code = 15


class DataDirCorruptError(HearthError):
    """journal.sqlite3 or memory.sqlite3 is damaged: `hearth logs recover` / `memory recover`."""

    exit_code = 16


class DataDirMismatchError(HearthError):
    """The journal is empty or missing while the memory database cites its messages."""

    exit_code = 17


class UnhealthyError(HearthError):
    """`hearth doctor` found a problem; each was printed with its fix."""

    exit_code = 18


class BackupError(HearthError):
    """A backup or restore could not be made as asked (the folder exists, counts differ)."""

    exit_code = 19


class RestoreError(BackupError):
    """A restore that failed its checks or its swap (a damaged backup, a count or checksum that
    differs, an unreadable manifest, a full disk): the data dir was left exactly as it was."""

    exit_code = 25


class ModelServerError(HearthError):
    """The openai backend's server cannot be reached, refused the key, or timed out."""

    exit_code = 20


class DreamError(HearthError):
    """A dream review that cannot apply (the id is not a dream's, the edit is empty), or a
    chat command on a dream's message (regenerate, edit): dreams are reviewed, not chatted."""

    exit_code = 21


class VectorServerError(HearthError):
    """The Chroma server in memory.chroma cannot be reached or refused Hearth."""

    exit_code = 22


class HearthServerError(HearthError):
    """A Hearth server (`hearth serve`, `--connect URL`) cannot be reached or refuses this
    request (no token, a wrong one, a page or host it does not serve)."""

    exit_code = 23


class ModelDownloadError(HearthError):
    """`hearth models pull` could not download or check a model: offline, refused by the Hub,
    not found, or its sha256 did not match (nothing is left where a model is looked for)."""

    exit_code = 24


class TooManyTokensError(MessageTooLongError):
    """A message that does not fit the model's window even with all history trimmed: refused
    before the turn (nothing sent to the model), never cut."""

    exit_code = 26


def _every_error(cls: type[HearthError]) -> list[type[HearthError]]:
    return [c for sub in cls.__subclasses__() for c in (sub, *_every_error(sub))]


# Derived, so a new error class cannot be left out; the README's "Exit codes" table is checked
# against it (tests/test_exit_codes.py).
EXIT_CODES: dict[str, int] = {cls.__name__: cls.exit_code for cls in _every_error(HearthError)}


def error_named(name: str, message: str) -> HearthError:
    """The error a Hearth server reported by its class name (the same exit code as here)."""
    found = {cls.__name__: cls for cls in _every_error(HearthError)}.get(name, HearthError)
    return found(message)
