"""``make preview``: the plan for one stack.

With a ``pulumi`` CLI and AWS credentials it runs the real ``pulumi preview`` with the policy pack.
Without them it runs the program through the recording harness and prints an *offline plan*: the
resource tree (component → children), counts by type and the stack outputs, then sends every
recorded resource to the policy pack over the Analyzer protocol, as the engine would.

Exit status: 0 when the plan is clean, 1 on a mandatory policy violation, 2 when the stack or its
config is wrong (the message names the stack file or the config key).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from offline.harness import PROJECT_DIR, StackNotFoundError, run_program
from offline.recording import STACK_TYPE, ProgramRun, RecordedResource

POLICY_DIR = PROJECT_DIR / "policy"


def has_aws_credentials(environ: dict[str, str] | None = None, home: Path | None = None) -> bool:
    """Whether the AWS SDK would find credentials (environment, profile, or shared files)."""
    env = dict(os.environ) if environ is None else environ
    if env.get("AWS_ACCESS_KEY_ID") or env.get("AWS_PROFILE") or env.get("AWS_WEB_IDENTITY_TOKEN_FILE"):
        return True
    base = home if home is not None else Path.home()
    return (base / ".aws" / "credentials").is_file() or (base / ".aws" / "config").is_file()


def pulumi_preview_command(stack: str, project_dir: Path = PROJECT_DIR) -> list[str]:
    """The ``pulumi preview`` command for a stack, with the policy pack and its per-stack config."""
    command = ["pulumi", "preview", "--stack", stack]
    if (project_dir / "policy" / "PulumiPolicy.yaml").is_file():
        command += ["--policy-pack", str(project_dir / "policy")]
        config = project_dir / "policy" / "config" / f"{stack}.json"
        if config.is_file():
            command += ["--policy-pack-config", str(config)]
    return command


def _short_type(type_: str) -> str:
    return type_.split(":")[-1] if not type_.startswith("orderflow:") else type_


def format_tree(run: ProgramRun) -> str:
    """The resource tree, components first, each child indented under its parent."""
    lines: list[str] = []

    def walk(parent: str, depth: int) -> None:
        for child in run.children(parent):
            lines.append(f"{'    ' * depth}+ {child.type}  {child.name}")
            walk(child.urn, depth + 1)

    lines.append(f"+ {STACK_TYPE}  {run.project}-{run.stack}")
    walk(run.stack_urn, 1)
    return "\n".join(lines)


def format_counts(resources: list[RecordedResource]) -> str:
    """Counts of provider resources by type, largest first."""
    counts = Counter(r.type for r in resources if r.custom and not r.is_provider)
    width = max((len(t) for t in counts), default=0)
    lines = [
        f"    {type_:<{width}}  {count:>3}" for type_, count in sorted(counts.items(), key=lambda i: (-i[1], i[0]))
    ]
    lines.append(f"    {'total':<{width}}  {sum(counts.values()):>3}")
    return "\n".join(lines)


def format_outputs(outputs: dict[str, Any]) -> str:
    """Stack outputs, one per line, as ``pulumi stack output`` lists them."""
    width = max((len(k) for k in outputs), default=0)
    return "\n".join(f"    {key:<{width}}  {value}" for key, value in sorted(outputs.items()))


def offline_plan(stack: str) -> int:
    """Run the program offline, print the plan and the policy results; return the exit status."""
    try:
        run = run_program(stack)
    except StackNotFoundError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except Exception as error:  # the program's own error, e.g. a bad config value naming its key
        print(f"error: stack {stack!r}: {error}", file=sys.stderr)
        return 2

    print(f"Offline plan for stack {stack!r} (no Pulumi engine or AWS account: recorded under mocks)\n")
    print(format_tree(run))
    print("\nResources by type:")
    print(format_counts(run.resources))
    print("\nOutputs:")
    print(format_outputs(run.outputs))
    print_versions(run)
    return policy_gate(run)


def print_versions(run: ProgramRun) -> None:
    """The functions' runtime and layers beside the versions the tests run on; an override is flagged."""
    from offline.skew import format_versions, project_versions

    print("\nRuntime and layers (deployed, beside what the tests run on):")
    print(format_versions(project_versions(run)))
    override = run.config.get("orderflow:powertoolsLayerArn")
    if override:
        print(
            f"  OVERRIDE orderflow:powertoolsLayerArn = {override} (Pulumi.{run.stack}.yaml): the functions get "
            "Powertools and Pydantic from that layer, at versions no test checks"
        )


def policy_gate(run: ProgramRun) -> int:
    """Send the recorded resources to the policy pack as the engine does; 1 on a mandatory violation."""
    if not (POLICY_DIR / "PulumiPolicy.yaml").is_file():
        return 0
    from offline.policy_client import format_report, run_policy_pack

    config = POLICY_DIR / "config" / f"{run.stack}.json"
    report = run_policy_pack(run, POLICY_DIR, config if config.is_file() else None)
    print()
    print(format_report(report))
    return 1 if report.has_mandatory_violations else 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``make preview``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--stack", default=os.environ.get("STACK", "dev"))
    parser.add_argument("--offline", action="store_true", help="always use the offline plan")
    args = parser.parse_args(argv)

    if not args.offline and shutil.which("pulumi") and has_aws_credentials():
        return subprocess.call(pulumi_preview_command(args.stack), cwd=PROJECT_DIR)
    return offline_plan(args.stack)


if __name__ == "__main__":
    sys.exit(main())
