"""Amazon ECR: private repositories scan images as they are pushed, and keep image tags immutable.

Scanning is a stack rule: a repository is scanned either by its own ``imageScanningConfiguration.scanOnPush``
or by the registry's scanning configuration (``ecr.RegistryScanningConfiguration``, one per registry and
Region), whose rules name the repositories they cover with wildcard filters.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator, Mapping
from typing import Any, Final

from pulumi_policy import EnforcementLevel, Severity

from policy_pack._core import (
    BadValueError,
    CannotEvaluateError,
    Finding,
    Node,
    Props,
    ResourceRule,
    StackRule,
    StackView,
)

REPOSITORY: Final = "aws:ecr/repository:Repository"
REGISTRY_SCANNING: Final = "aws:ecr/registryScanningConfiguration:RegistryScanningConfiguration"

SERVICE: Final = "ecr"

# Registry rule frequencies that scan a new image without anyone asking (MANUAL does not).
SCANNING_FREQUENCIES: Final = frozenset({"SCAN_ON_PUSH", "CONTINUOUS_SCAN"})
# Tag mutability settings under which a pushed tag cannot be overwritten (an exclusion filter is a deliberate,
# named exception such as "latest").
IMMUTABLE: Final = frozenset({"IMMUTABLE", "IMMUTABLE_WITH_EXCLUSION"})


def _registry_filters(stack: StackView, region: str | None) -> list[str] | None:
    """The wildcard filters of the registry rules that scan pushed images, ``None`` when one cannot be read."""
    filters: list[str] = []
    for registry in stack.of_type(REGISTRY_SCANNING):
        try:
            registry_region = registry.props.get("region", None)
            if isinstance(registry_region, str) and region and registry_region != region:
                continue  # another Region's registry
            for rule in registry.props.each("rules"):
                if rule.text("scanFrequency", "") not in SCANNING_FREQUENCIES:
                    continue
                filters.extend(str(item.text("filter", "")) for item in rule.each("repositoryFilters"))
        except CannotEvaluateError:
            return None
    return filters


def _scanned_by_registry(repository: Node, filters: list[str]) -> bool | None:
    """Whether a registry filter covers the repository, ``None`` when its name is needed and unknown."""
    if "*" in filters:
        return True
    if not filters:
        return False
    try:
        name = repository.props.get("name", None)
    except CannotEvaluateError:
        name = None
    if not isinstance(name, str):
        return None
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in filters)


def _scan_on_push(stack: StackView, config: Mapping[str, Any]) -> Iterator[Finding]:
    for repository in stack.of_type(REPOSITORY):
        try:
            if repository.props.flag("imageScanningConfiguration.scanOnPush", False) is True:
                continue
        except CannotEvaluateError:
            stack.cannot_evaluate(f"imageScanningConfiguration of {repository.name}")
            continue
        except BadValueError as error:
            yield Finding(f"repository {repository.name}: {error}", repository.urn)
            continue
        try:
            region = repository.props.get("region", None)
        except CannotEvaluateError:
            region = None
        filters = _registry_filters(stack, region if isinstance(region, str) else None)
        covered = None if filters is None else _scanned_by_registry(repository, filters)
        if covered is None:
            stack.cannot_evaluate(f"whether the registry scanning configuration covers {repository.name}")
        elif not covered:
            yield Finding(
                f"repository {repository.name} does not scan images on push (imageScanningConfiguration.scanOnPush "
                "is not true and no registry scanning rule covers it): images with known vulnerabilities deploy "
                "unnoticed; set imageScanningConfiguration.scanOnPush true, or add an "
                "aws.ecr.RegistryScanningConfiguration whose rule (SCAN_ON_PUSH or CONTINUOUS_SCAN) filters it in",
                repository.urn,
            )


def _tags_immutable(props: Props, config: Mapping[str, Any], _: str) -> Iterator[str]:
    mutability = props.text("imageTagMutability", "MUTABLE")
    if mutability not in IMMUTABLE:
        unset = "" if props.has("imageTagMutability") else " (the default)"
        yield (
            f"imageTagMutability is {mutability!r}{unset}: a push can replace the image behind a tag a service "
            "already runs, so a deploy or a rollback gets other code than the one reviewed and scanned; set "
            "imageTagMutability 'IMMUTABLE' and tag each build uniquely (a commit hash), or "
            "'IMMUTABLE_WITH_EXCLUSION' with the few tags meant to move"
        )


RULES: Final = [
    ResourceRule(
        name="ecr-image-tags-immutable",
        summary="ECR repositories keep image tags immutable (imageTagMutability IMMUTABLE, or with named exclusions)",
        anchors=("AWS Security Hub ECR.2", "checkov CKV_AWS_51"),
        severity=Severity.MEDIUM,
        # Advisory: a program that pushes the same tag (latest) on every deploy fails its second push once tags
        # are immutable, so the switch is the team's to make with its tagging.
        enforcement_level=EnforcementLevel.ADVISORY,
        service=SERVICE,
        resource_types=(REPOSITORY,),
        check=_tags_immutable,
    ),
    StackRule(
        name="ecr-image-scan-on-push",
        summary=(
            "ECR repositories scan images on push, by their own scanOnPush or by a registry scanning rule "
            "(SCAN_ON_PUSH or CONTINUOUS_SCAN) that covers them"
        ),
        anchors=("AWS Security Hub ECR.1", "checkov CKV_AWS_163"),
        severity=Severity.HIGH,
        enforcement_level=EnforcementLevel.MANDATORY,
        service=SERVICE,
        resource_types=(REPOSITORY, REGISTRY_SCANNING),
        check=_scan_on_push,
    ),
]
