"""Fixtures of the handler tests: the Lambda environment, a fresh moto account per test, the function under test.

moto is imported before any handler module, so the boto3 clients handlers create at import time
(as they do in Lambda) are routed to moto; each test gets empty resources from ``create_world``.
A test module names the function it is about in ``HANDLER``; the ``app`` fixture imports it.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType

import pytest
from moto import mock_aws

from tests.handlers.handlers_testkit import (
    ENVIRONMENT,
    AwsWorld,
    LambdaContext,
    create_world,
    import_handler,
    seed_accepted_order,
)


@pytest.fixture(autouse=True)
def lambda_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The environment variables of docs/contracts.md, set only for the duration of each handler test."""
    for name, value in ENVIRONMENT.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def aws(lambda_environment: None) -> Iterator[AwsWorld]:
    """A fresh moto account with the project's tables, bus, topic and capture queues."""
    with mock_aws():
        yield create_world()


@pytest.fixture
def context() -> LambdaContext:
    """A Lambda context with 30 s left."""
    return LambdaContext()


@pytest.fixture
def app(request: pytest.FixtureRequest, aws: AwsWorld) -> ModuleType:
    """The function the test module is about (its ``HANDLER`` package), imported inside this test's moto account."""
    return import_handler(request.module.HANDLER)


@pytest.fixture
def accepted_order(aws: AwsWorld) -> str:
    """The id of an ``ACCEPTED`` order with a shipping address: what the fulfillment steps find."""
    return seed_accepted_order(aws)
