"""Library shared by every orderflow Lambda function: models, catalogue, errors, AWS helpers.

Holds one constant only: each handler imports just the submodules it needs, which keeps cold starts short.
"""

from __future__ import annotations

from typing import Final

TRACED_MODULES: Final = ("botocore",)
"""What every function's ``Tracer(patch_modules=...)`` patches: the AWS SDK, the one traced library they call.

Tracer's default (patch all) would import requests, sqlite3 and more just to patch them, which costs
cold-start time for nothing.
"""
