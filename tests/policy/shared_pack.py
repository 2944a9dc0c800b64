"""One policy-pack process per test module and stack, instead of one per ``run_policy_pack`` call.

The engine starts a pack per deployment; a module that sends dozens of runs of the same stack to the pack
pays that start (an interpreter importing the SDK and the pack, ~2 s) each time. The pack keeps no state
between runs that the engine's set-up calls do not reset: ``ConfigureStack`` and ``Configure`` (sent in full
by every run) replace what they set, and the rules' caches are pure. ``test_policy_program`` checks that a
reused process reports what a fresh one does; ``test_policy_grpc``, that a config sent after another replaces it.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from offline import policy_client

_launch_fresh = policy_client.launch_pack


@pytest.fixture(scope="module")
def one_pack_per_stack() -> Iterator[None]:
    """``run_policy_pack`` reuses one running pack per launch settings (stack, config, dry run) in the module."""
    with contextlib.ExitStack() as running, pytest.MonkeyPatch.context() as patch:
        started: dict[str, policy_client.PolicyPackProcess] = {}

        @contextlib.contextmanager
        def reused(pack_dir: Path, **settings: Any) -> Iterator[policy_client.PolicyPackProcess]:
            key = json.dumps([str(pack_dir), settings], sort_keys=True, default=str)
            if key not in started:
                started[key] = running.enter_context(_launch_fresh(pack_dir, **settings))
            yield started[key]

        patch.setattr(policy_client, "launch_pack", reused)
        yield


@contextlib.contextmanager
def fresh_packs() -> Iterator[None]:
    """Inside the block, ``run_policy_pack`` starts its own pack again (what the engine does)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(policy_client, "launch_pack", _launch_fresh)
        yield
