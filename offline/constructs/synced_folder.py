"""Offline models of the synced-folder package's remote components (see :mod:`offline.constructs`).

They follow release 0.12.x (``provider/cmd/pulumi-resource-synced-folder/s3-bucket-folder.ts``,
``azure-blob-folder.ts``, ``google-cloud-folder.ts`` and ``utils.ts`` of github.com/pulumi/pulumi-synced-folder at
80f5ba2). Each folder component lists the files of its ``path`` (relative to the program's directory) and, with
``managedObjects`` (the default), registers one object per file, named ``f"{component}-{relative path}"``;
otherwise one ``command:local:Command`` that runs the cloud's CLI to sync the folder on create and update and to
empty the bucket on delete.

The package lists files with ``glob`` 11 (``<path>/**/*``, files only, hidden ones only with
``includeHiddenFiles``) and takes an object's key by removing ``"<path>/"`` from the file's path as glob returns
it. Glob returns paths without a leading ``./``, so for a ``path`` written ``./www`` nothing is removed and keys
keep the ``www/`` prefix; the model does the same. Content types are npm ``mime``'s (``text/plain`` when it
knows none).
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from offline.constructs import UNKNOWN, Child, ComponentModel, ConstructContext, is_known, unwrap
from offline.constructs.files import content_type, file_asset

FOLLOWS: Final = "synced-folder 0.12.x (provider/cmd/pulumi-resource-synced-folder/*-folder.ts, utils.ts)"
S3_FOLDER: Final = "synced-folder:index:S3BucketFolder"
AZURE_FOLDER: Final = "synced-folder:index:AzureBlobFolder"
GOOGLE_FOLDER: Final = "synced-folder:index:GoogleCloudFolder"

S3_OBJECT_TYPE: Final = "aws:s3/bucketObject:BucketObject"
AZURE_BLOB_TYPE: Final = "azure-native:storage:Blob"
GOOGLE_OBJECT_TYPE: Final = "gcp:storage/bucketObject:BucketObject"
COMMAND_TYPE: Final = "command:local:Command"


@dataclass(frozen=True)
class FolderFile:
    """One file of a synced folder, as the package lists it."""

    full_path: str
    """The path glob returns (the folder's path joined with the file's, normalized); the object's source."""
    key: str
    """The object's key: ``full_path`` without the leading ``"<path>/"``."""
    content_type: str
    """npm ``mime``'s type for the file name, ``text/plain`` when it has none."""
    modified: float
    """The file's modification time (seconds since the epoch)."""


def folder_files(path: str, program_dir: Path, include_hidden: bool) -> list[FolderFile]:
    """The files the package lists under ``path``, sorted by path (glob's own order is the file system's).

    Parameters
    ----------
    path:
        The component's ``path`` input, as written in the program.
    program_dir:
        The program's directory, which a relative ``path`` is relative to.
    include_hidden:
        Whether files and folders whose name starts with a dot are listed.
    """
    root = Path(path) if os.path.isabs(path) else program_dir / path
    if not root.is_dir():
        return []
    files = []
    for folder, folders, names in os.walk(root):
        if not include_hidden:
            folders[:] = [name for name in folders if not name.startswith(".")]
        for name in names:
            if not include_hidden and name.startswith("."):
                continue
            file = Path(folder) / name
            if not file.is_file():
                continue
            full_path = posixpath.normpath(posixpath.join(path, file.relative_to(root).as_posix()))
            key = full_path.replace(f"{path}/", "", 1)
            files.append(FolderFile(full_path, key, content_type(full_path) or "text/plain", file.stat().st_mtime))
    return sorted(files, key=lambda file: file.full_path)


def last_modified(files: list[FolderFile]) -> str:
    """The newest modification time as JavaScript's ``Date.toString()`` prints it in UTC (epoch when no file)."""
    newest = datetime.fromtimestamp(max((file.modified for file in files), default=0.0), UTC)
    return newest.strftime("%a %b %d %Y %H:%M:%S GMT+0000 (Coordinated Universal Time)")


def _set(inputs: dict[str, Any]) -> dict[str, Any]:
    """``inputs`` without the keys the program left unset (JavaScript's ``undefined`` is not sent)."""
    return {key: value for key, value in inputs.items() if value is not None}


def _text(*parts: Any) -> Any:
    """``pulumi.interpolate`` of ``parts``: unknown as soon as one part is."""
    if not all(is_known(part) for part in parts):
        return UNKNOWN
    return "".join(str(unwrap(part)) for part in parts)


ObjectInputs = Callable[[Mapping[str, Any], FolderFile], dict[str, Any]]
Commands = Callable[[Mapping[str, Any], ConstructContext], tuple[Any, Any]]


def _build_folder(
    inputs: Mapping[str, Any],
    context: ConstructContext,
    object_type: str,
    object_inputs: ObjectInputs,
    commands: Commands,
) -> list[Child]:
    """Children of any of the three folder components: one object per file, or one sync command."""
    path = inputs.get("path")
    files: list[FolderFile] = []
    # An unknown path reaches the package as an Output, which glob turns into no file at all.
    if isinstance(path, str) and path and is_known(path):
        files = folder_files(path, context.program_dir, inputs.get("includeHiddenFiles") is True)
    if inputs.get("managedObjects", True) is not False:
        return [Child(object_type, f"{context.name}-{file.key}", _set(object_inputs(inputs, file))) for file in files]
    sync, delete = commands(inputs, context)
    environment = {"LAST_MODIFIED": last_modified(files)}
    command_inputs = {"create": sync, "update": sync, "delete": delete, "environment": environment}
    return [Child(COMMAND_TYPE, f"{context.name}-sync-command", command_inputs)]


def _s3_object(inputs: Mapping[str, Any], file: FolderFile) -> dict[str, Any]:
    return {
        "key": file.key,
        "acl": inputs.get("acl"),
        "bucket": inputs.get("bucketName"),
        "contentType": file.content_type,
        "source": file_asset(file.full_path),
    }


def _s3_commands(inputs: Mapping[str, Any], context: ConstructContext) -> tuple[Any, Any]:
    path, bucket, acl = inputs.get("path"), inputs.get("bucketName"), inputs.get("acl")
    sync = _text(
        'aws s3 sync "',
        path,
        '" "s3://',
        bucket,
        '" --acl "',
        acl,
        f'" --region "{context.region}" --delete --only-show-errors',
    )
    return sync, _text('aws s3 rm "s3://', bucket, '" --include "*" --recursive --only-show-errors')


def build_s3_bucket_folder(inputs: Mapping[str, Any], context: ConstructContext) -> list[Child]:
    """The children of an ``S3BucketFolder``: an ``aws:s3/bucketObject:BucketObject`` per file, or a sync command.

    Parameters
    ----------
    inputs:
        ``path``, ``bucketName``, ``acl``, and optionally ``managedObjects`` (default true),
        ``includeHiddenFiles`` (default false) and ``disableManagedObjectAliases`` (aliases do not change URNs).
    context:
        The component's name, the program's directory and the region (in the sync command).
    """
    return _build_folder(inputs, context, S3_OBJECT_TYPE, _s3_object, _s3_commands)


def _azure_blob(inputs: Mapping[str, Any], file: FolderFile) -> dict[str, Any]:
    return {
        "blobName": file.key,
        "accountName": inputs.get("storageAccountName"),
        "resourceGroupName": inputs.get("resourceGroupName"),
        "containerName": inputs.get("containerName"),
        "source": file_asset(file.full_path),
        "contentType": file.content_type,
    }


def _azure_commands(inputs: Mapping[str, Any], context: ConstructContext) -> tuple[Any, Any]:
    path, account, container = inputs.get("path"), inputs.get("storageAccountName"), inputs.get("containerName")
    sync = _text(
        'az storage blob sync --source "',
        path,
        '" --account-name "',
        account,
        "\" --container '",
        container,
        "' --delete-destination true --only-show-errors",
    )
    delete = _text(
        'az storage blob delete-batch --account-name "', account, "\" --source '", container, "' --only-show-errors"
    )
    return sync, delete


def build_azure_blob_folder(inputs: Mapping[str, Any], context: ConstructContext) -> list[Child]:
    """The children of an ``AzureBlobFolder``: an ``azure-native:storage:Blob`` per file, or a sync command."""
    return _build_folder(inputs, context, AZURE_BLOB_TYPE, _azure_blob, _azure_commands)


def _google_object(inputs: Mapping[str, Any], file: FolderFile) -> dict[str, Any]:
    return {
        "bucket": inputs.get("bucketName"),
        "name": file.key,
        "source": file_asset(file.full_path),
        "contentType": file.content_type,
    }


def _google_commands(inputs: Mapping[str, Any], context: ConstructContext) -> tuple[Any, Any]:
    path, bucket = inputs.get("path"), inputs.get("bucketName")
    return _text('gsutil -q -m rsync -r -d "', path, '" "gs://', bucket, '"'), _text(
        'gsutil -q rm "gs://', bucket, '/**"'
    )


def build_google_cloud_folder(inputs: Mapping[str, Any], context: ConstructContext) -> list[Child]:
    """The children of a ``GoogleCloudFolder``: a ``gcp:storage/bucketObject:BucketObject`` per file, or a command."""
    return _build_folder(inputs, context, GOOGLE_OBJECT_TYPE, _google_object, _google_commands)


MODELS: dict[str, ComponentModel] = {
    S3_FOLDER: ComponentModel(build_s3_bucket_folder, FOLLOWS),
    AZURE_FOLDER: ComponentModel(build_azure_blob_folder, FOLLOWS),
    GOOGLE_FOLDER: ComponentModel(build_google_cloud_folder, FOLLOWS),
}
"""Component type token → model."""
