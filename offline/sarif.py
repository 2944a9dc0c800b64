"""Policy findings as SARIF 2.1.0, so code review shows each one on the line that created the resource.

GitHub code scanning reads SARIF (``github/codeql-action/upload-sarif``) and annotates a pull request's
changed lines with its results. Each rule of the pack becomes a ``reportingDescriptor`` (its description as
help text, its public rule ids as tags); each violation becomes a ``result`` located at the program file and
line whose constructor call registered the resource (the registration's stack trace, see
:func:`offline.harness.user_frame`). A violation of the stack as a whole is located at the program's entry
file. Format: OASIS SARIF 2.1.0, https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

from offline.policy_client import PolicyReport, PolicyViolation
from offline.recording import ProgramRun, SourceLocation

SARIF_SCHEMA: Final = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
SARIF_VERSION: Final = "2.1.0"
TOOL_URI: Final = "https://www.pulumi.com/docs/iac/using-pulumi/crossguard/"
_LEVELS: Final = {"mandatory": "error", "advisory": "warning", "disabled": "none"}
_SECURITY_SEVERITY: Final = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "2.0"}


def _relative(path: str, root: Path) -> str:
    """``path`` relative to ``root`` with forward slashes, as code scanning matches files of the repository."""
    resolved = Path(path).resolve()
    return resolved.relative_to(root).as_posix() if resolved.is_relative_to(root) else resolved.as_posix()


def _public_ids(tags: tuple[str, ...]) -> list[str]:
    """The public rule ids among a policy's tags (this pack tags the service first, then the ids)."""
    return list(tags[1:])


def _rule(name: str, report: PolicyReport, violations: list[PolicyViolation]) -> dict[str, Any]:
    policy = report.policies.get(name)
    description = policy.description if policy else (violations[0].description if violations else name)
    public_ids = _public_ids(policy.tags) if policy else []
    help_lines = [description]
    if public_ids:
        help_lines.append("Public rule ids: " + ", ".join(public_ids) + ".")
    if policy and policy.remediation_steps:
        help_lines.append(policy.remediation_steps)
    help_lines.append(f"Policy {name} of the {report.pack_name} pack, version {report.pack_version}.")
    rule: dict[str, Any] = {
        "id": name,
        "name": name,
        "shortDescription": {"text": description},
        "fullDescription": {"text": description},
        "help": {"text": "\n".join(help_lines), "markdown": "\n\n".join(help_lines)},
        "defaultConfiguration": {"level": _LEVELS.get(policy.enforcement_level if policy else "advisory", "warning")},
        "properties": {"tags": list(policy.tags) if policy else [], "publicIds": public_ids},
    }
    if policy and policy.severity in _SECURITY_SEVERITY:
        rule["properties"]["security-severity"] = _SECURITY_SEVERITY[policy.severity]
    if policy and policy.url:
        rule["helpUri"] = policy.url
    return rule


def sarif_log(run: ProgramRun, report: PolicyReport, *, root: Path, entry: Path) -> dict[str, Any]:
    """The SARIF 2.1.0 log of one gate run.

    Parameters
    ----------
    run:
        The recorded program (each resource knows the file and line that created it).
    report:
        The pack's findings over it.
    root:
        The repository root: result locations are relative to it (``%SRCROOT%``).
    entry:
        The program's entry file, where findings with no resource line are located.
    """
    root = root.resolve()
    sources: dict[str, SourceLocation | None] = {record.urn: record.source for record in run.resources}
    by_rule: dict[str, list[PolicyViolation]] = {}
    for violation in report.violations:
        by_rule.setdefault(violation.rule, []).append(violation)
    names = sorted(set(report.policies) | set(by_rule))
    index = {name: position for position, name in enumerate(names)}
    results = []
    for violation in sorted(report.violations, key=lambda v: (v.rule, v.urn, v.message)):
        source = sources.get(violation.urn)
        path, line = (source.path, source.line) if source else (str(entry), 1)
        results.append(
            {
                "ruleId": violation.rule,
                "ruleIndex": index[violation.rule],
                "level": _LEVELS.get(violation.enforcement_level, "warning"),
                "message": {"text": f"{violation.resource_type} {violation.resource_name}: {violation.detail}"},
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": {"uri": _relative(path, root), "uriBaseId": "%SRCROOT%"},
                            "region": {"startLine": max(1, line)},
                        },
                        "logicalLocations": [
                            {"name": violation.resource_name, "fullyQualifiedName": violation.urn, "kind": "resource"}
                        ],
                    }
                ],
                "partialFingerprints": {"pulumiUrn/v1": f"{violation.rule}|{violation.urn}"},
            }
        )
    return {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": report.pack_name or "policy-pack",
                        "version": report.pack_version or "0.0.0",
                        "informationUri": TOOL_URI,
                        "rules": [_rule(name, report, by_rule.get(name, [])) for name in names],
                    }
                },
                "originalUriBaseIds": {"%SRCROOT%": {"uri": root.as_uri() + "/"}},
                "automationDetails": {"id": f"pulumi-policy/{run.project}/{run.stack}/"},
                "results": results,
            }
        ],
    }
