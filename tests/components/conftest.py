"""Each component constructed alone under ``pulumi.runtime.set_mocks``, its children recorded as the engine gets them.

The awsx way: build one component with its defaults, or with one opt-out, and assert the exact inputs,
types and names of the children it registers under itself. ARNs come from the mocks' account, region and
partition, so the assertions hold wherever the component builds ARNs from the caller's account.
"""

from __future__ import annotations

import asyncio
import functools
import importlib
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import pytest
from pulumi.runtime import settings
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from components.function import Function, FunctionArgs
from offline.harness import RecordingMonitor
from offline.mocks import ACCOUNT_ID, AwsMocks
from offline.recording import ProgramRun, RecordedResource

PROJECT = "probe"
STACK = "test"
REGION = "eu-west-1"
ACCOUNT = ACCOUNT_ID
PARTITION = "aws"
"""The partition the mocks' ``aws.get_partition`` answers."""
PREFIX = f"{PROJECT}-{STACK}"
"""``<project>-<stack>``: the start of every physical name a component derives."""
TAGS = {"team": "orders", "cost-centre": "cc-42"}
"""The tags every component is built with unless a test says otherwise (``build(..., tags=...)``)."""
# ``build`` checks tags on every taggable child once; ``inputs`` leaves them out so "exact inputs" means the rest.
IGNORED_INPUTS = frozenset({"tags", "tagsAll"})


@dataclass
class Built[ComponentT: pulumi.ComponentResource]:
    """One component's recording: the component and its direct children, in registration order."""

    run: ProgramRun
    component: RecordedResource
    resource: ComponentT
    """The component object itself, for its public outputs (see :meth:`value`)."""

    @staticmethod
    def value(output: pulumi.Output[Any]) -> Any:
        """What a public output resolves to."""
        return _sync_await(output.future())

    @property
    def children(self) -> list[RecordedResource]:
        return self.run.children(self.component.urn)

    def child(self, name: str) -> RecordedResource:
        """The direct child with this logical name."""
        (found,) = [child for child in self.children if child.name == name]
        return found

    def inputs(self, name: str) -> dict[str, Any]:
        """A direct child's inputs, tags aside."""
        return {key: value for key, value in self.child(name).inputs.items() if key not in IGNORED_INPUTS}

    def kinds(self) -> set[tuple[str, str]]:
        """``(type, name)`` of every direct child (registration order follows output resolution)."""
        kinds = [(child.type, child.name) for child in self.children]
        assert len(set(kinds)) == len(kinds), kinds
        return set(kinds)


def build[ComponentT: pulumi.ComponentResource](
    construct: Callable[[], ComponentT], tags: Mapping[str, str] = TAGS
) -> Built[ComponentT]:
    """Run ``construct`` as a one-component program, record what it registers and check its children's tags.

    ``construct`` may first make what the component needs (a function for an API); the component is
    the one it returns. It gives the component ``tags`` (:data:`TAGS` unless the test names others):
    every taggable resource below the component must carry exactly those (no ``tags`` input when empty,
    so the provider's default tags are all it gets).

    Raises
    ------
    Exception
        Whatever the component raised.
    """
    mocks = AwsMocks(REGION, stack=STACK)
    monitor = RecordingMonitor(mocks, PROJECT, STACK, REGION)
    settings.ROOT.set(None)
    settings.SETTINGS.outputs.clear()  # what a new process starts with; set_mocks keeps the last program's
    pulumi.runtime.set_all_config({"aws:region": REGION})
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=STACK, preview=False, monitor=monitor)
    built: list[ComponentT] = []
    earlier = _sync_await(_other_tasks())
    try:
        _sync_await(run_pulumi_func(lambda: built.append(construct())))
    except Exception:
        _sync_await(_settle(earlier))
        raise
    run = ProgramRun(project=PROJECT, stack=STACK, config={}, resources=monitor.records, outputs={})
    urn = _sync_await(built[0].urn.future())
    recorded = Built(run, run.by_urn(str(urn)), built[0])
    assert_tagged(run, recorded.component, tags)
    return recorded


def assert_tagged(run: ProgramRun, component: RecordedResource, tags: Mapping[str, str]) -> None:
    """Every taggable resource below ``component`` has ``tags`` as its ``tags`` input (none when empty)."""
    taggable = [child for child in run.descendants(component.urn) if is_taggable(child.type)]
    wrong = {
        child.name: child.inputs.get("tags") for child in taggable if child.inputs.get("tags") != (dict(tags) or None)
    }
    assert not wrong, f"children of {component.name} given tags {dict(tags)} carry other tags: {wrong}"


@functools.cache
def is_taggable(type_token: str) -> bool:
    """Whether the ``pulumi_aws`` resource of this type token (``aws:sqs/queue:Queue``) has a ``tags`` input.

    Read from the provider SDK's own ``<Resource>Args`` signature, so a resource type that gains or lacks
    tags in the pinned ``pulumi_aws`` is classified the way the provider sees it. Components are not taggable.
    """
    package, module_and_file, class_name = type_token.split(":")
    if package != "aws":
        return False
    module_name = module_and_file.split("/")[0]
    module = importlib.import_module(f"pulumi_aws.{PYTHON_MODULES.get(module_name, module_name)}")
    args_class = getattr(module, f"{class_name}Args")
    return "tags" in inspect.signature(args_class.__init__).parameters


PYTHON_MODULES = {"lambda": "lambda_"}
"""Type-token modules whose ``pulumi_aws`` module is named otherwise (a Python keyword gets a ``_``)."""


async def _other_tasks() -> set[asyncio.Task[Any]]:
    """The tasks already on the loop, which are not the program's (Playwright's, when the browser tests ran)."""
    return asyncio.all_tasks() - {asyncio.current_task()}


async def _settle(earlier: set[asyncio.Task[Any]], rounds: int = 50) -> None:
    """Let a failed program's remaining tasks finish, then forget its outputs.

    The engine stops at the first error, and ``set_mocks`` keeps the SDK's set of outputs to await
    (``settings.SETTINGS.outputs``, an internal the canary in ``test_components_event_bus`` guards): an
    Output that failed would otherwise fail every program built after it in this process.
    """
    for _ in range(rounds):
        pending = asyncio.all_tasks() - earlier - {asyncio.current_task()}
        if not pending:
            break
        await asyncio.wait(pending, timeout=1)
    else:
        raise RuntimeError(f"a failed program left {len(pending)} tasks running")
    settings.SETTINGS.outputs.clear()


@pytest.fixture
def handlers(tmp_path: Path) -> Path:
    """A handlers folder with one package, ``worker``, and the shared library every function packages."""
    (tmp_path / "worker").mkdir()
    (tmp_path / "worker" / "app.py").write_text("def lambda_handler(event, context):\n    return event\n")
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "__init__.py").write_text("")
    return tmp_path


def worker_function(handlers: Path, name: str = "worker") -> Function:
    """A function for the components that take one (APIs, channels)."""
    return Function(
        name, FunctionArgs("worker", reserved_concurrency=None, log_retention_days=1, handlers_dir=handlers)
    )
