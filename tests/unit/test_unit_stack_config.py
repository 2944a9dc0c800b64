"""Stack configuration: defaults, and a bad value failing with its key named."""

from __future__ import annotations

import pytest

from orderflow.config import StackConfigError, load_settings


class Source(dict[str, str]):
    """A config source backed by a dict (``pulumi.Config.get`` has the same shape)."""


def settings_with(**values: str):  # type: ignore[no-untyped-def]
    return load_settings(Source(values), Source({"region": "eu-west-1"}))


def test_defaults_are_safe_and_explicit() -> None:
    settings = settings_with()
    assert settings.region == "eu-west-1"
    assert settings.reserved_concurrency >= 1
    assert settings.log_retention_days == 14
    assert settings.alarms_enabled is False


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("logRetentionDays", "-1", "orderflow:logRetentionDays"),
        ("logRetentionDays", "10", "orderflow:logRetentionDays"),
        ("logRetentionDays", "many", "orderflow:logRetentionDays': expected an integer"),
        ("reservedConcurrency", "0", "orderflow:reservedConcurrency': must be at least 1"),
        ("queueConsumerMaxConcurrency", "1", "orderflow:queueConsumerMaxConcurrency"),
        ("apiThrottleRate", "0", "orderflow:apiThrottleRate"),
        ("allowedOrigins", '["*"]', "orderflow:allowedOrigins"),
        ("allowedOrigins", "https://a.example", "orderflow:allowedOrigins': expected a list"),
        ("deletionProtection", "yes", "orderflow:deletionProtection"),
        ("workflowLogLevel", "VERBOSE", "orderflow:workflowLogLevel"),
        ("alarmsEnabled", "true", "orderflow:alarmEmail': is required"),
        ("alarmEmail", "not-an-address", "orderflow:alarmEmail"),
        ("archiveRetentionDays", "0", "orderflow:archiveRetentionDays"),
        ("powertoolsLayerArn", "27", "orderflow:powertoolsLayerArn': expected a layer version ARN"),
        (
            "powertoolsLayerArn",
            "arn:aws:lambda:eu-west-1:017000801446:layer:Powertools",
            "orderflow:powertoolsLayerArn",
        ),
        ("powertoolsLayerVersion", "27", "orderflow:powertoolsLayerVersion': was removed"),
    ],
)
def test_bad_value_names_its_key(key: str, value: str, message: str) -> None:
    with pytest.raises(StackConfigError, match=message.replace("*", r"\*")):
        settings_with(**{key: value})


@pytest.mark.parametrize("region", ["", "europe", "eu_west_1", "EU-WEST-1"])
def test_malformed_region_names_aws_region(region: str) -> None:
    with pytest.raises(StackConfigError, match="aws:region"):
        load_settings(Source({}), Source({"region": region} if region else {}))


def test_powertools_layer_is_built_unless_a_layer_version_arn_overrides_it() -> None:
    assert settings_with().powertools_layer_arn is None
    arn = "arn:aws-us-gov:lambda:us-gov-west-1:123456789012:layer:approved-powertools:7"
    assert settings_with(powertoolsLayerArn=arn).powertools_layer_arn == arn
