"""Compliant stacks and one mutation per case for the stack rule on ECR image scanning.

Imported by ``policy_stack_cases`` once its helpers exist; its cases run and count with the others.
"""

from __future__ import annotations

from typing import Any

from policy_stack_cases import ACCOUNT, REGION, StackCase, add, bad, ok
from policy_testkit import UNKNOWN, Res

REPOSITORY = "aws:ecr/repository:Repository"
REGISTRY_SCANNING = "aws:ecr/registryScanningConfiguration:RegistryScanningConfiguration"

SCAN = "ecr-image-scan-on-push"


def repository(name: str = "app", scan_on_push: Any = True, **props: Any) -> Res:
    scanning = {} if scan_on_push is None else {"imageScanningConfiguration": {"scanOnPush": scan_on_push}}
    arn = f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/{name}"
    return Res(REPOSITORY, name, {"name": name, "arn": arn, "imageTagMutability": "IMMUTABLE", **scanning, **props})


def registry(*filters: str, frequency: str = "SCAN_ON_PUSH", scan_type: str = "ENHANCED", **props: Any) -> Res:
    rule = {"scanFrequency": frequency, "repositoryFilters": [{"filter": f, "filterType": "WILDCARD"} for f in filters]}
    return Res(REGISTRY_SCANNING, "registry-scanning", {"scanType": scan_type, "rules": [rule], **props})


ECR_STACK_CASES: list[StackCase] = [
    ok(SCAN, "scan-on-push", lambda: [repository()]),
    bad(SCAN, "scan-off", lambda: [repository(scan_on_push=False)], "repository app does not scan images on push"),
    bad(SCAN, "scan-unset", lambda: [repository(scan_on_push=None)], "scanOnPush is not true"),
    ok(SCAN, "registry-scans-everything", lambda: [repository(scan_on_push=None), registry("*")]),
    ok(
        SCAN,
        "registry-continuous-scan-by-prefix",
        lambda: [repository("orders-api", scan_on_push=None), registry("orders-*", frequency="CONTINUOUS_SCAN")],
    ),
    ok(
        SCAN,
        "basic-registry-scan-on-push",
        lambda: [repository(scan_on_push=None), registry("app", scan_type="BASIC")],
    ),
    bad(
        SCAN,
        "registry-filter-misses-it",
        lambda: [repository("billing", scan_on_push=None), registry("orders-*")],
        "repository billing does not scan images on push",
    ),
    bad(
        SCAN,
        "registry-manual-scans-only",
        lambda: [repository(scan_on_push=None), registry("*", frequency="MANUAL", scan_type="BASIC")],
        "repository app does not scan",
    ),
    bad(
        SCAN,
        "registry-of-another-region",
        lambda: [repository(scan_on_push=None, region=REGION), registry("*", region="us-east-1")],
        "repository app does not scan",
    ),
    ok(
        SCAN,
        "preview-name-unknown-but-registry-scans-everything",
        lambda: add([Res(REPOSITORY, "app", {"name": UNKNOWN, "arn": UNKNOWN})], registry("*")),
    ),
]
