"""The program's local files as component packages upload them: file assets and their content types.

Both aws-apigateway (static routes) and synced-folder (bucket objects) upload files as ``FileAsset`` sources and
set an object's ``contentType`` from the file name, as npm ``mime.getType`` gives it (``mime`` 2.6 and 3.x agree
on the types below). The table lists the web extensions those packages meet; any other extension falls back to Python's
built-in table (``mimetypes`` without the host's files, so the answer does not depend on the machine).
"""

from __future__ import annotations

import mimetypes
from pathlib import PurePosixPath
from typing import Final

# npm mime's standard types, where they differ from Python's or Python lacks them (js and mjs: mime < 4).
_NPM_MIME: Final = {
    "html": "text/html",
    "htm": "text/html",
    "css": "text/css",
    "js": "application/javascript",
    "mjs": "application/javascript",
    "json": "application/json",
    "map": "application/json",
    "webmanifest": "application/manifest+json",
    "txt": "text/plain",
    "md": "text/markdown",
    "csv": "text/csv",
    "xml": "application/xml",
    "yaml": "text/yaml",
    "yml": "text/yaml",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "svg": "image/svg+xml",
    "webp": "image/webp",
    "ico": "image/vnd.microsoft.icon",
    "woff": "font/woff",
    "woff2": "font/woff2",
    "ttf": "font/ttf",
    "otf": "font/otf",
    "wasm": "application/wasm",
    "pdf": "application/pdf",
    "zip": "application/zip",
}

_PYTHON_TYPES: Final = mimetypes.MimeTypes(filenames=())
_SIGNATURE_KEY: Final = "4dabf18193072939515e22adb298388d"
_FILE_ASSET_SIGNATURE: Final = "c44067f5952c0a294b673a41bacd8c17"


def file_asset(path: str) -> dict[str, str]:
    """A ``pulumi.asset.FileAsset`` of ``path`` as the SDK sends it (the engine hashes the file)."""
    return {_SIGNATURE_KEY: _FILE_ASSET_SIGNATURE, "path": path}


def content_type(path: str) -> str | None:
    """The content type npm ``mime.getType(path)`` gives, ``None`` when it knows none.

    Like ``mime``, the extension is what follows the last dot of the file name, and a name with no dot
    after its first character (``README``, ``.htaccess``) has none.
    """
    file_name = PurePosixPath(path.replace("\\", "/")).name.lower()
    stem, dot, extension = file_name.rpartition(".")
    if not dot or not stem:
        return None
    if extension in _NPM_MIME:
        return _NPM_MIME[extension]
    guessed, _ = _PYTHON_TYPES.guess_type(f"file.{extension}", strict=True)
    return guessed
