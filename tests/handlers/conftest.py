"""Fixtures of the handler tests: the Lambda environment, and a fresh moto account per test.

moto is imported before any handler module, so the boto3 clients handlers create at import time
(as they do in Lambda) are routed to moto; each test gets empty resources from ``create_world``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from moto import mock_aws

from tests.handlers.handlers_testkit import ENVIRONMENT, AwsWorld, LambdaContext, create_world


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
