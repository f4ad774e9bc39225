"""Downloading a GGUF from the Hugging Face Hub into models/: checked, and never half-written
where a model is looked for."""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import os
import re
import shutil
from glob import escape as glob_escape
from pathlib import Path, PurePosixPath
from types import ModuleType
from typing import Any

from pydantic import BaseModel

from agent.runtime.model_files import PARTIAL_DIR
from memory.errors import ModelDownloadError, StorageError

_SHA256 = re.compile(r"[0-9a-f]{64}")
SPARE_BYTES = 64 * 1024 * 1024
"""Room left free on the disk after a download (the journal, the log, the memories)."""


class RemoteFile(BaseModel):
    """A file as the Hub's resolve endpoint describes it."""

    repo: str
    file: str
    commit: str
    sha256: str
    """The LFS object id (the Hub's X-Linked-Etag): the sha256 of the file's bytes."""
    size: int

    @property
    def local_name(self) -> str:
        """Its name in models/ (a file in a repo's subfolder lands in models/ itself)."""
        return PurePosixPath(self.file).name


def _hub() -> ModuleType:
    """huggingface_hub's constants, set for telemetry off before anything of it is used (it
    reads the environment when imported; the constant is set too, in case it was already)."""
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    from huggingface_hub import constants

    constants.HF_HUB_DISABLE_TELEMETRY = True
    return constants


def _failures() -> tuple[type[BaseException], ...]:
    """What a look-up or a download raises when it fails: the Hub's HTTP errors (OSErrors, as
    are a full disk and an offline mode), and a network that fails below HTTP, in whichever
    client this huggingface_hub uses."""
    found: list[type[BaseException]] = [OSError]
    for module, name in (("httpx2", "TransportError"), ("httpx", "TransportError")):
        with contextlib.suppress(ImportError, AttributeError):
            found.append(getattr(importlib.import_module(module), name))
    return tuple(found)


def _refused(exc: BaseException, repo: str, file: str, revision: str | None) -> ModelDownloadError:
    """One line for whatever stopped a look-up or a download."""
    constants = _hub()
    from huggingface_hub import errors

    where = f"{repo}/{file}" + (f" at {revision}" if revision else "")
    if isinstance(exc, errors.OfflineModeIsEnabled) or constants.HF_HUB_OFFLINE:
        return ModelDownloadError(
            f"cannot download {where}: offline mode is on (HF_HUB_OFFLINE or "
            "TRANSFORMERS_OFFLINE is set); unset it and run the command again"
        )
    status = getattr(getattr(exc, "response", None), "status_code", None)
    if status in (401, 403) or isinstance(exc, errors.GatedRepoError):
        return ModelDownloadError(
            f"the Hugging Face Hub refused {where} (HTTP {status}): it is gated or private; "
            "accept its licence on its page and log in (`hf auth login`), or pick another model"
        )
    if status == 404 or isinstance(
        exc, errors.RepositoryNotFoundError | errors.RevisionNotFoundError
    ):
        return ModelDownloadError(
            f"the Hugging Face Hub has no {where} (HTTP {status or 404}): check the repository, "
            "file and revision (`hearth models list --catalog` names known ones)"
        )
    if isinstance(exc, errors.HfHubHTTPError):
        return ModelDownloadError(
            f"the Hugging Face Hub answered HTTP {status} for {where}; try again later"
        )
    why = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return ModelDownloadError(
        f"cannot download {where} from {constants.ENDPOINT}: {why}; check the connection "
        "and run the command again"
    )


def look_up(repo: str, file: str, revision: str | None) -> RemoteFile:
    """The file's commit, size and sha256, asked of the Hub (HEAD on its resolve URL)."""
    constants = _hub()
    from huggingface_hub import get_hf_file_metadata, hf_hub_url
    from huggingface_hub.errors import OfflineModeIsEnabled

    if constants.HF_HUB_OFFLINE:
        raise _refused(OfflineModeIsEnabled("offline"), repo, file, revision)
    try:
        meta = get_hf_file_metadata(hf_hub_url(repo, file, revision=revision))
    except _failures() as exc:
        raise _refused(exc, repo, file, revision) from exc
    etag = (meta.etag or "").lower()
    if not _SHA256.fullmatch(etag) or meta.size is None or not meta.commit_hash:
        raise ModelDownloadError(
            f"the Hugging Face Hub gave no sha256 and size for {repo}/{file} (not a large-file "
            "upload?): nothing was downloaded, since the file could not be checked"
        )
    return RemoteFile(repo=repo, file=file, commit=meta.commit_hash, sha256=etag, size=meta.size)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def already_here(remote: RemoteFile, data_models: Path) -> Path | None:
    """models/ already holds exactly this file (same size and sha256)."""
    path = data_models / remote.local_name
    if path.is_file() and path.stat().st_size == remote.size and sha256_of(path) == remote.sha256:
        return path
    return None


def check_disk(remote: RemoteFile, data_models: Path) -> None:
    """Refuse before downloading when the file would not fit, with room to spare."""
    folder = data_models
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    free = shutil.disk_usage(folder).free
    if free < remote.size + SPARE_BYTES:
        raise StorageError(
            f"not enough free disk for {remote.local_name}: it needs {remote.size / 1e9:.2f} GB "
            f"and {free / 1e9:.2f} GB is free in {folder}; free some space and run it again"
        )


def download(remote: RemoteFile, data_models: Path, progress: type[Any] | None = None) -> Path:
    """The file, fetched into models/.partial/ (which the model finder never looks in), shown by
    `progress` (a tqdm class; huggingface_hub's own bar by default); a connection cut part-way
    is resumed from where it stopped (an HTTP Range request)."""
    _hub()
    from huggingface_hub import hf_hub_download

    staging = data_models / PARTIAL_DIR
    staging.mkdir(parents=True, exist_ok=True)
    # huggingface_hub resumes a cut connection within a run, but a run killed part-way leaves
    # its partial file behind under a one-off name that no later run reuses: free that space.
    for orphan in _records(data_models).glob(f"{glob_escape(remote.file)}.*.incomplete"):
        orphan.unlink(missing_ok=True)
    try:
        path = hf_hub_download(
            remote.repo, remote.file, revision=remote.commit, local_dir=staging, tqdm_class=progress
        )
    except _failures() as exc:
        raise _refused(exc, remote.repo, remote.file, remote.commit) from exc
    return Path(str(path))


def place(remote: RemoteFile, downloaded: Path, data_models: Path) -> Path:
    """Check the download's sha256 against the Hub's, then rename it into models/ (one step: a
    model is there whole or not at all). A mismatch deletes the download."""
    digest = sha256_of(downloaded)
    if digest != remote.sha256:
        downloaded.unlink(missing_ok=True)
        _forget_download(remote, data_models)
        raise ModelDownloadError(
            f"{remote.local_name} does not match the sha256 the Hugging Face Hub reports "
            f"({digest[:12]}… instead of {remote.sha256[:12]}…); the download was deleted: "
            "run the command again"
        )
    target = data_models / remote.local_name
    os.replace(downloaded, target)
    _forget_download(remote, data_models)
    return target


def _records(data_models: Path) -> Path:
    """Where huggingface_hub keeps its local_dir downloads' records and partial files."""
    return data_models / PARTIAL_DIR / ".cache" / "huggingface" / "download"


def _forget_download(remote: RemoteFile, data_models: Path) -> None:
    """huggingface_hub's record of the download (its local_dir metadata) goes with the file."""
    for suffix in (".metadata", ".lock"):
        (_records(data_models) / f"{remote.file}{suffix}").unlink(missing_ok=True)
