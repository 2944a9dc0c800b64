"""Physical names (components/naming.py) and partition-aware ARNs (components/aws_context.py)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import pytest

from components import naming
from components.aws_context import AwsContext, build_arn
from components.event_bus import bus_policy
from components.realtime_channel import publish_statement


@pytest.mark.parametrize("limit", [16, 48, 64, 80])
def test_a_name_that_fits_is_kept_exactly(limit: int) -> None:
    name = "n" * limit
    assert naming.fit(name, limit) == name


def test_a_long_name_keeps_its_prefix_and_ends_with_its_own_hash() -> None:
    name = "orderflow-production-" + "x" * 60
    fitted = naming.fit(name, 64)
    assert len(fitted) == 64
    assert fitted == f"{name[:55]}-{hashlib.sha256(name.encode()).hexdigest()[:8]}"


def test_two_long_names_with_the_same_prefix_do_not_collide() -> None:
    first, second = "p" * 70 + "-first", "p" * 70 + "-second"
    assert first[:64] == second[:64]  # plain truncation would give both the same name
    assert naming.fit(first, 64) != naming.fit(second, 64)


def test_fitting_is_stable() -> None:
    assert naming.fit("a" * 100, 48) == naming.fit("a" * 100, 48)


def test_a_limit_too_small_for_the_hash_is_refused() -> None:
    with pytest.raises(ValueError, match="no room"):
        naming.fit("abcdefghijk", 9)


@pytest.mark.parametrize(
    ("build", "limit"),
    [
        (lambda n: naming.function_name("orderflow", "dev", n), naming.LAMBDA_FUNCTION),
        (lambda n: naming.state_machine_name("orderflow", "dev", n), naming.STATE_MACHINE),
        (lambda n: naming.event_rule_name("orderflow-dev-orders", n), naming.EVENT_RULE),
        (lambda n: naming.event_archive_name(f"orderflow-dev-{n}"), naming.EVENT_ARCHIVE),
        (lambda n: naming.iot_name("orderflow", "dev", n), naming.IOT_AUTHORIZER),
    ],
)
def test_each_rule_keeps_its_service_limit(build: Callable[[str], str], limit: int) -> None:
    assert len(build("x" * 300)) == limit


def test_today_names_are_unchanged() -> None:
    assert naming.function_name("orderflow", "dev", "notify") == "orderflow-dev-notify"
    assert naming.event_rule_name("orderflow-dev-orders", "audit") == "orderflow-dev-orders-audit"
    assert naming.event_archive_name("orderflow-dev-orders") == "orderflow-dev-orders-archive"
    assert naming.state_machine_name("orderflow", "prod", "fulfillment") == "orderflow-prod-fulfillment"


def test_iot_names_have_no_hyphens() -> None:
    assert naming.iot_name("orderflow", "dev", "realtime") == "orderflow_dev_realtime"
    long_name = naming.iot_name("orderflow", "dev", "r" * 200)
    assert "-" not in long_name and len(long_name) == naming.IOT_AUTHORIZER


@pytest.mark.parametrize("partition", ["aws", "aws-cn", "aws-us-gov"])
def test_arns_carry_the_partition(partition: str) -> None:
    context = AwsContext(partition=partition, region="r-1", account="111111111111")
    assert context.arn("events", "event-bus/orders") == f"arn:{partition}:events:r-1:111111111111:event-bus/orders"
    assert context.arn("s3", "bucket", regional=False, in_account=False) == f"arn:{partition}:s3:::bucket"
    assert context.account_root() == f"arn:{partition}:iam::111111111111:root"
    assert build_arn(partition, "iam", "", "2", "root") == f"arn:{partition}:iam::2:root"


def test_bus_policy_principals_and_iot_grants_follow_the_partition() -> None:
    (statement,) = bus_policy("arn:bus", "111111111111", [], partition="aws-us-gov")["Statement"]
    assert statement["Principal"] == {"AWS": ["arn:aws-us-gov:iam::111111111111:root"]}
    grant = publish_statement("cn-north-1", "111111111111", "orders", "aws-cn")
    assert grant["Resource"] == "arn:aws-cn:iot:cn-north-1:111111111111:topic/orders/*"
