"""Stack configuration: defaults, and a bad value failing with its key named."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from orderflow.config import (
    REMOVED_KEYS,
    StackConfigError,
    aws_provider_keys,
    check_known_keys,
    declared_keys,
    default_tags,
    load_settings,
)
from orderflow.pulumi_files import ProjectFileError, read_config_declarations


class Source(dict[str, str]):
    """A config source backed by a dict (``pulumi.Config.get`` has the same shape)."""


def settings_with(**values: str):  # type: ignore[no-untyped-def]
    return load_settings(Source(values), Source({"region": "eu-west-1"}))


def test_defaults_are_safe_and_explicit() -> None:
    settings = settings_with()
    assert settings.region == "eu-west-1"
    # Nothing reserved unless a stack asks: a new account's concurrency quota admits no reservation.
    assert settings.reserved_concurrency is None and settings.api_reserved_concurrency is None
    assert settings_with(reservedConcurrency="7").reserved_concurrency == 7
    assert settings.log_retention_days == 14
    assert settings.alarms_enabled is False


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("logRetentionDays", "-1", "orderflow:logRetentionDays"),
        ("logRetentionDays", "10", "orderflow:logRetentionDays"),
        ("logRetentionDays", "many", "orderflow:logRetentionDays': expected an integer"),
        ("reservedConcurrency", "-1", "orderflow:reservedConcurrency': must be at least 1"),
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
        (
            "notificationEmail",
            "orders@example.com",
            "orderflow:notificationEmail': was removed: customers are no longer e-mailed",
        ),
        ("operatorEmail", "not-an-address", "orderflow:operatorEmail"),
        ("notifyReservedConcurrency", "1001", "orderflow:notifyReservedConcurrency': must be at most 1000"),
        ("tableWarmWriteUnits", "3999", "orderflow:tableWarmWriteUnits': must be at least 4000"),
    ],
)
def test_bad_value_names_its_key(key: str, value: str, message: str) -> None:
    with pytest.raises(StackConfigError, match=message.replace("*", r"\*")):
        settings_with(**{key: value})


@pytest.mark.parametrize("region", ["", "europe", "eu_west_1", "EU-WEST-1"])
def test_malformed_region_names_aws_region(region: str) -> None:
    with pytest.raises(StackConfigError, match="aws:region"):
        load_settings(Source({}), Source({"region": region} if region else {}))


class RecordingSource(Source):
    """A source that remembers every key the program asked for."""

    def __init__(self, values: dict[str, str]) -> None:
        super().__init__(values)
        self.asked: set[str] = set()

    def get(self, key: str, default: str | None = None) -> str | None:  # type: ignore[override]
        self.asked.add(key)
        return super().get(key, default)


def test_pulumi_yaml_is_the_one_list_of_keys() -> None:
    # Every declared key is read, and reading any other key fails: adding a key is one declaration.
    source = RecordingSource({})
    load_settings(source, Source({"region": "eu-west-1"}))
    # (A removed key is only looked for, to say what replaced it.)
    assert source.asked - set(REMOVED_KEYS) == set(declared_keys())


def test_defaults_come_from_the_declarations() -> None:
    settings = settings_with()
    declared = declared_keys()
    assert settings.log_retention_days == declared["logRetentionDays"].default
    assert settings.allowed_origins == tuple(declared["allowedOrigins"].default)
    assert settings.api_throttle_rate == float(declared["apiThrottleRate"].default)
    assert settings.alarm_email is None and declared["alarmEmail"].default == ""


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("logRetentionDay", "'orderflow:logRetentionDay': unknown key; did you mean 'orderflow:logRetentionDays'?"),
        ("LOGLEVEL", "config 'orderflow:LOGLEVEL': unknown key; did you mean 'orderflow:logLevel'?"),
        ("colour", "config 'orderflow:colour': unknown key; no declared key is close"),
    ],
)
def test_an_unknown_key_names_the_nearest_declared_one(key: str, message: str) -> None:
    with pytest.raises(StackConfigError, match=re.escape(message)):
        settings_with(**{key: "1"})


def test_every_unknown_key_is_reported_at_once() -> None:
    with pytest.raises(StackConfigError) as raised:
        settings_with(logRetentionDay="7", alarmEmial="ops@example.com")
    assert str(raised.value).splitlines() == [
        "config 'orderflow:alarmEmial': unknown key; did you mean 'orderflow:alarmEmail'? (every key is declared "
        "in Pulumi.yaml's config block)",
        "config 'orderflow:logRetentionDay': unknown key; did you mean 'orderflow:logRetentionDays'? (every key is "
        "declared in Pulumi.yaml's config block)",
    ]


def test_a_namespace_close_to_a_known_one_is_a_typo() -> None:
    check_known_keys({"aws:region", "pulumi:disable-default-providers", "acme:anything"}, declared_keys())
    with pytest.raises(StackConfigError, match=re.escape("unknown namespace 'asw'; did you mean 'aws:region'?")):
        check_known_keys({"asw:region"}, declared_keys())


@pytest.mark.parametrize(
    ("key", "hint"),
    [("aws:regoin", "did you mean 'aws:region'?"), ("aws:profle", "did you mean 'aws:profile'?")],
)
def test_an_aws_key_the_provider_does_not_read_names_the_nearest_one(key: str, hint: str) -> None:
    with pytest.raises(StackConfigError) as raised:
        check_known_keys({key, "aws:region", "aws:defaultTags"}, declared_keys())
    assert str(raised.value) == f"config '{key}': unknown key; {hint} (the AWS provider reads no such setting)"


def test_the_aws_keys_are_the_installed_providers_own() -> None:
    keys = aws_provider_keys()
    assert {"region", "profile", "defaultTags", "assumeRoles", "skipCredentialsValidation"} <= keys
    assert "regoin" not in keys and len(keys) > 30


@pytest.mark.parametrize("value", ["nan", "NaN", "inf", "-Infinity", ".nan", ".inf", "+.inf"])
def test_non_finite_numbers_are_refused_naming_the_key(value: str) -> None:
    with pytest.raises(StackConfigError, match=re.escape("'orderflow:apiThrottleRate': must be a finite number")):
        settings_with(apiThrottleRate=value)


@pytest.mark.parametrize("value", ["yes", "No", "on", "off"])
def test_yaml_1_1_booleans_are_explained(value: str) -> None:
    with pytest.raises(StackConfigError, match=re.escape("YAML 1.2, where yes/no/on/off are strings")):
        settings_with(alarmsEnabled=value)


@pytest.mark.parametrize(
    ("declaration", "message"),
    [
        ("{type: number, description: d, default: 1}", "type must be one of array, boolean, integer, string"),
        ("{type: array, description: d, default: []}", "an array declares its item type"),
        ("{type: integer, default: 1}", "needs a description"),
        ("{type: integer, description: d}", "needs a default"),
        ("{type: integer, description: d, default: '1'}", "default '1' is not of type integer"),
        ("{type: boolean, description: d, default: yes}", "default 'yes' is not of type boolean"),
        ("{type: string, description: d, default: x, kind: y}", "unknown attribute(s) kind"),
    ],
)
def test_a_malformed_declaration_is_refused(tmp_path: Path, declaration: str, message: str) -> None:
    project_file = tmp_path / "Pulumi.yaml"
    project_file.write_text(f"name: probe\nruntime: python\nconfig:\n  knob: {declaration}\n")
    with pytest.raises(ProjectFileError, match=re.escape(f"Pulumi.yaml: config 'probe:knob': {message}")):
        read_config_declarations(project_file)


def test_powertools_layer_is_built_unless_a_layer_version_arn_overrides_it() -> None:
    assert settings_with().powertools_layer_arn is None
    arn = "arn:aws-us-gov:lambda:us-gov-west-1:123456789012:layer:approved-powertools:7"
    assert settings_with(powertoolsLayerArn=arn).powertools_layer_arn == arn


# ---- aws:defaultTags ----------------------------------------------------------------------------
TAGS = {"project": "orderflow", "stack": "dev", "owner": "platform-team", "cost-centre": "cc-1"}


def tags_config(tags: object) -> str:
    return json.dumps({"tags": tags})


def test_default_tags_are_read_sorted() -> None:
    assert default_tags(tags_config(TAGS), "dev") == tuple(sorted(TAGS.items()))
    assert default_tags("", "dev") == ()


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("not json", "expected a map with a 'tags' map"),
        (json.dumps({"tag": TAGS}), "expected a map with a 'tags' map of strings"),
        (tags_config({**TAGS, "owner": 3}), "expected a map with a 'tags' map of strings"),
        (tags_config({k: v for k, v in TAGS.items() if k != "cost-centre"}), "tags cost-centre are required"),
        (tags_config({**TAGS, "owner": ""}), "tags owner are required"),
        (tags_config({**TAGS, "aws:team": "x"}), "tag 'aws:team'"),
        (tags_config({**TAGS, "stack": "prod"}), "tag 'stack' must be 'dev' (this stack), got 'prod'"),
        (tags_config({**TAGS, "project": "other"}), "tag 'project' must be 'orderflow'"),
    ],
)
def test_bad_default_tags_name_aws_default_tags(raw: str, message: str) -> None:
    with pytest.raises(StackConfigError, match=r"^config 'aws:defaultTags': " + re.escape(message)):
        default_tags(raw, "dev")


def test_load_settings_checks_default_tags_against_the_stack() -> None:
    aws = Source({"region": "eu-west-1", "defaultTags": tags_config(TAGS)})
    assert dict(load_settings(Source({}), aws, "dev").default_tags)["owner"] == "platform-team"
    with pytest.raises(StackConfigError, match="aws:defaultTags"):
        load_settings(Source({}), aws, "prod")
