"""``make preview``: the plan for one stack.

With a ``pulumi`` CLI and AWS credentials it runs the real ``pulumi preview`` with the policy pack.
Without them it runs the program through the recording harness and prints an *offline plan*: the
resource tree (component → children), counts by type and the stack outputs, then sends every
recorded resource to the policy pack over the Analyzer protocol, as the engine would.

Exit status (``EXIT_*`` below; docs/troubleshooting.md lists them):

* 0 — the plan is clean;
* 1 — a mandatory policy violation;
* 2 — the stack or its config is wrong: the message names the stack file or the config key (a
  ``pulumi.RunError``, which the Pulumi engine too reports without a traceback);
* 3 — the program itself raised (a bug, not a config error): its traceback is printed, file and line.

``make preview`` itself exits 2 whenever the plan fails (GNU make's status for a failed recipe); the
plan's own status survives in make's last line, ``make: *** [Makefile:…: preview] Error 3``.

``--program DIR`` runs *any* Pulumi Python program folder the same way (its own ``Pulumi.yaml``, a stack
file optional) and gates it with the pack: how to check a fork's pull request without cloud
credentials. ``--first-preview`` records it as a first ``pulumi preview`` sees it (every computed output
unknown); ``--json FILE`` writes the findings and remediations for CI, ``--sarif FILE`` the findings as
SARIF 2.1.0 for code scanning (both also for our own stacks). There, exit 2 also when the program itself
fails (its traceback is printed) or is still waiting after ``--watchdog`` seconds (what it waits on is
printed): it is someone else's program, not a bug of ours.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import threading
import traceback
from collections import Counter
from collections.abc import Collection, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from offline.paths import PROJECT_DIR

# Only what every path needs is imported here: `make preview` first asks `--uses-real-cli`, which must not
# pay for pulumi and the harness (about 0.5 s of CPU) only to answer yes or no.
if TYPE_CHECKING:
    from offline.policy_client import AnalyzeStream, PolicyReport
    from offline.recording import ProgramRun, RecordedResource

POLICY_DIR = PROJECT_DIR / "policy"
EXIT_CLEAN = 0
EXIT_POLICY_VIOLATION = 1
EXIT_STACK_OR_CONFIG = 2
EXIT_PROGRAM_ERROR = 3


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


def format_tree(run: ProgramRun) -> str:
    """The resource tree, components first, each child indented under its parent."""
    from offline.recording import STACK_TYPE

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


OUTPUT_WIDTH = 100
"""Printed lines are kept to this width where a value allows: a value that does not fit goes on its own line."""


def _value_lines(key: str, value: Any, indent: str, width: int) -> list[str]:
    """``key: value`` for a scalar, nested lines for a map or a list: YAML-like, never a Python ``repr``.

    A pair too wide for ``width`` puts the value on the next line.
    """
    heading = f"{indent}{key}" if key == "-" else f"{indent}{key}:"  # a list item holding a map or a list
    if isinstance(value, dict) and value:
        lines = [heading]
        for inner_key, inner in sorted(value.items()):
            lines.extend(_value_lines(str(inner_key), inner, indent + "  ", width))
        return lines
    if isinstance(value, list | tuple) and value:
        lines = [heading]
        for item in value:
            lines.extend(_value_lines("-", item, indent + "  ", width))
        return lines
    shown = value if isinstance(value, str) else json.dumps(value, default=str)
    label = f"{indent}{key}" if key == "-" else f"{indent}{key}:"
    if len(label) + 1 + len(shown) <= width:
        return [f"{label} {shown}"]
    return [label, f"{indent}    {shown}"]


def format_outputs(outputs: dict[str, Any], width: int = OUTPUT_WIDTH) -> str:
    """Stack outputs as a person reads them: ``key: value`` lines, maps and lists nested under their key."""
    lines: list[str] = []
    for key, value in sorted(outputs.items()):
        lines.extend(_value_lines(key, value, "    ", width))
    return "\n".join(lines)


def not_checked(run: ProgramRun) -> list[dict[str, str]]:
    """The remote components whose children the pack never sees offline, each with the reason.

    A ``remote=True`` component (awsx, synced-folder, aws-apigateway…) is built by the engine calling
    ``Construct`` on its package's provider plugin (the ``pulumi-resource-<package>`` binary that
    ``pulumi plugin install`` downloads); no engine and no plugin run here, so its children are never
    registered and no rule inspects them. A component whose package has a model in :mod:`offline.constructs`
    has its children registered from it and is not listed.
    """
    from offline.constructs import MODELS

    def reason(record: RecordedResource) -> str:
        plugin = f"{record.type.split(':', 1)[0]} provider plugin"
        unbuilt = run.unbuilt_components.get(record.urn)
        if unbuilt is not None:
            return (
                f"children of {record.type} {record.name!r} are created by the {plugin}; its offline model "
                f"could not plan them ({unbuilt}): they are not checked and the component's outputs are unknown"
            )
        return (
            f"children of {record.type} {record.name!r} are created by the {plugin}, which does not run "
            "offline: they are not checked and the component's outputs are unknown"
        )

    return [
        {"urn": record.urn, "type": record.type, "name": record.name, "reason": reason(record)}
        for record in run.resources
        if record.remote and (record.type not in MODELS or record.urn in run.unbuilt_components)
    ]


def modelled(run: ProgramRun) -> list[dict[str, str]]:
    """The remote components whose children were registered from an offline model, each with what it follows."""
    from offline.constructs import MODELS

    return [
        {"urn": record.urn, "type": record.type, "name": record.name, "follows": MODELS[record.type].follows}
        for record in run.resources
        if record.remote and record.type in MODELS and record.urn not in run.unbuilt_components
    ]


def format_not_checked(run: ProgramRun, policy_pack: Path = POLICY_DIR) -> str:
    """The notice printed with the policy results: which resources were not checked, why, and how to check them."""
    unchecked = not_checked(run)
    if not unchecked:
        return ""
    lines = [f"Not checked offline ({len(unchecked)} remote component{'s' if len(unchecked) > 1 else ''}):"]
    for entry in unchecked:
        lines.extend(textwrap.wrap(entry["reason"], OUTPUT_WIDTH, initial_indent="  - ", subsequent_indent="    "))
    lines.append(f"  Check them with the real engine: pulumi preview --policy-pack {policy_pack}")
    return "\n".join(lines)


def print_not_checked(run: ProgramRun) -> None:
    """Print :func:`format_not_checked` after the policy results, when something was not checked."""
    notice = format_not_checked(run)
    if notice:
        print(f"\n{notice}")


def format_notes(run: ProgramRun) -> str:
    """What the offline engine modelled rather than ran, said once: components' children, data sources it guessed."""
    lines: list[str] = []
    models = sorted({(entry["type"], entry["follows"]) for entry in modelled(run)})
    if models:
        lines.append("Children of remote components registered from offline models of their packages:")
        lines.extend(f"    {token}: {follows}" for token, follows in models)
    if run.generic_invokes:
        lines.append("Data sources answered with placeholder values of their result type:")
        lines.extend(f"    {token}" for token in run.generic_invokes)
    if run.unknown_calls:
        lines.append("Resource methods answered unknown (their provider plugin does not run offline):")
        lines.extend(f"    {token}" for token in run.unknown_calls)
    return "\n".join(lines)


def print_plan(run: ProgramRun, heading: str) -> None:
    """The plan as ``make preview`` prints it: heading, resource tree, counts by type, stack outputs."""
    print(f"{heading}\n")
    print(format_tree(run))
    print("\nResources by type:")
    print(format_counts(run.resources))
    print("\nOutputs:")
    print(format_outputs(run.outputs))
    notes = format_notes(run)
    if notes:
        print(f"\n{notes}")


def offline_plan(stack: str, *, json_path: Path | None = None, sarif_path: Path | None = None) -> int:
    """Run the program offline, print the plan and the policy results; return the exit status.

    The pack process starts first, so it imports its rules while the program runs; each resource goes to
    it (``Remediate``, ``Analyze``) as the program registers it, as the engine does during a preview, so
    only ``AnalyzeStack`` is left when the program ends.
    """
    with contextlib.ExitStack() as cleanup:
        stream = cleanup.enter_context(_pack_ahead(stack)) if (POLICY_DIR / "PulumiPolicy.yaml").is_file() else None
        import pulumi

        from offline import harness
        from orderflow.pulumi_files import ProjectFileError

        try:
            run = harness.run_program(stack, on_record=stream.submit if stream is not None else None)
        except (harness.StackNotFoundError, ProjectFileError) as error:
            print(f"error: {error}", file=sys.stderr)
            return EXIT_STACK_OR_CONFIG
        except pulumi.RunError as error:  # a bad config value, naming its key
            print(f"error: stack {stack!r}: {error}", file=sys.stderr)
            return EXIT_STACK_OR_CONFIG
        except Exception as error:  # a bug in the program: where it happened matters more than the message
            traceback.print_exception(error, file=sys.stderr)
            print(f"error: stack {stack!r}: the program raised {program_frame(error)}", file=sys.stderr)
            print(f"(a bug in the program, not a config error: exit {EXIT_PROGRAM_ERROR})", file=sys.stderr)
            return EXIT_PROGRAM_ERROR

        print_plan(run, f"Offline plan for stack {stack!r} (no Pulumi engine or AWS account: recorded under mocks)")
        print_versions(run)
        from offline.policy_client import PolicyConfigError, PolicyPackError

        try:
            return policy_gate(run, json_path=json_path, sarif_path=sarif_path, stream=stream)
        except (PolicyConfigError, PolicyPackError) as error:  # never 1: that status means "policy failed"
            print(f"error: {error}", file=sys.stderr)
            return EXIT_STACK_OR_CONFIG


@contextlib.contextmanager
def _pack_ahead(stack: str) -> Iterator[AnalyzeStream | None]:
    """The policy pack started for ``stack`` as the engine will configure it, ready to analyze resources.

    ``None`` when the stack cannot be read: the program run then reports why. The pack process starts
    before this process imports gRPC and the SDK, so its own start (the SDK and every rule) runs beside them.
    """
    from offline.pack_process import launch_pack
    from offline.stack_files import StackNotFoundError, load_stack_config, project_name
    from orderflow.pulumi_files import ProjectFileError

    try:
        config, project = load_stack_config(stack), project_name()
    except (StackNotFoundError, ProjectFileError):
        yield None
        return
    engine: dict[str, Any] = {
        "project": project,
        "stack": stack,
        "config": config,
        "dry_run": False,
        "organization": "organization",
    }
    with launch_pack(POLICY_DIR, **engine) as pack:
        from offline.policy_client import AnalyzeStream

        stream = AnalyzeStream(pack, _policy_config_file(stack), engine)
        try:
            yield stream
        finally:
            stream.close()


def _policy_config_file(stack: str) -> Path | None:
    """The stack's ``--policy-pack-config`` file, when it has one."""
    config = POLICY_DIR / "config" / f"{stack}.json"
    return config if config.is_file() else None


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


def program_frame(error: BaseException, project_dir: Path = PROJECT_DIR) -> str:
    """``Type: message at file:line`` of the innermost frame in the program's own files (not the harness)."""
    where = ""
    for frame in traceback.extract_tb(error.__traceback__):
        path = Path(frame.filename)
        if path.is_relative_to(project_dir) and not path.is_relative_to(project_dir / "offline"):
            where = f" at {path.relative_to(project_dir)}:{frame.lineno}"
    return f"{type(error).__name__}: {error}{where}"


def policy_gate(
    run: ProgramRun,
    *,
    json_path: Path | None = None,
    sarif_path: Path | None = None,
    stream: AnalyzeStream | None = None,
) -> int:
    """Send the recorded resources to the policy pack as the engine does; 1 on a mandatory violation.

    With ``stream`` (:func:`_pack_ahead`), the resources went to the pack as they were registered.
    """
    if not (POLICY_DIR / "PulumiPolicy.yaml").is_file():
        return 0
    from offline.policy_client import format_report, run_policy_pack

    report = run_policy_pack(run, POLICY_DIR, _policy_config_file(run.stack), stream=stream)
    print()
    print(format_report(report))
    print_not_checked(run)
    write_reports(run, report, json_path=json_path, sarif_path=sarif_path, entry=PROJECT_DIR / "__main__.py")
    return EXIT_POLICY_VIOLATION if report.has_mandatory_violations else EXIT_CLEAN


def write_reports(
    run: ProgramRun, report: PolicyReport, *, json_path: Path | None, sarif_path: Path | None, entry: Path
) -> None:
    """Write the findings for CI: ``--json`` (findings and remediations) and ``--sarif`` (code scanning)."""
    if json_path is not None:
        json_path.write_text(json.dumps(json_report(run, report), indent=2, default=str) + "\n")
    if sarif_path is not None:
        from offline.sarif import sarif_log

        log = sarif_log(run, report, root=Path.cwd(), entry=entry)
        sarif_path.write_text(json.dumps(log, indent=2, default=str) + "\n")


def json_report(run: ProgramRun, report: PolicyReport) -> dict[str, Any]:
    """The machine-readable result of a gate: resource count, every violation and remediation, the idle cost."""
    sources = {record.urn: record.source for record in run.resources}

    def where(urn: str) -> dict[str, Any] | None:
        source = sources.get(urn)
        return {"file": source.path, "line": source.line} if source else None

    return {
        "resources": sum(1 for r in run.resources if r.custom and not r.is_provider),
        "violations": [
            {"rule": v.rule, "level": v.enforcement_level, "urn": v.urn, "message": v.message, "source": where(v.urn)}
            for v in sorted(report.violations, key=lambda v: (v.enforcement_level, v.rule, v.urn))
        ],
        "remediations": [
            {
                "rule": r.policy_name,
                "urn": r.urn,
                "source": where(r.urn),
                "changes": [{"property": c.key, "old": c.old, "new": c.new} for c in r.changes],
            }
            for r in sorted(report.remediations, key=lambda r: (r.policy_name, r.urn))
        ],
        "idleCostUsd": report.idle_cost.total_usd if report.idle_cost is not None else None,
        "notChecked": not_checked(run),
        "modelled": modelled(run),
    }


def program_plan(
    program_dir: Path,
    *,
    stack: str | None = None,
    policy_config: Path | None = None,
    first_preview: bool = False,
    json_path: Path | None = None,
    sarif_path: Path | None = None,
    watchdog_seconds: float | None = None,
) -> int:
    """Run any program folder offline, gate it with the pack, print the CLI-style report; return the exit status."""
    from offline.harness import DEFAULT_WATCHDOG_SECONDS, ProgramError, ProgramHangError, run_program_dir
    from offline.policy_client import PolicyConfigError, PolicyPackError, format_report, run_policy_pack
    from orderflow import pulumi_files

    if not program_dir.is_dir():
        print(f"error: --program {program_dir}: not a folder", file=sys.stderr)
        return 2
    seconds = watchdog_seconds or DEFAULT_WATCHDOG_SECONDS
    backstop = _backstop(seconds)
    try:
        run = run_program_dir(
            program_dir, stack, files=pulumi_files, first_preview=first_preview, watchdog_seconds=seconds
        )
    except (ProgramError, ProgramHangError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except Exception as error:  # the program's own failure: show it as the CLI would
        print(f"error: {_program_failure(error, program_dir, stack)}", file=sys.stderr)
        return 2
    finally:
        backstop.cancel()
    mode = "first preview: every computed output unknown" if first_preview else "update: outputs known as mocked"
    print_plan(run, f"Offline plan for {run.project} stack {run.stack!r} ({mode}; no Pulumi engine or AWS account)")
    try:
        report = run_policy_pack(run, POLICY_DIR, policy_config)
    except (PolicyConfigError, PolicyPackError) as error:  # never 1: that status means "policy failed"
        print(f"error: {error}", file=sys.stderr)
        return 2
    print()
    print(format_report(report))
    print_not_checked(run)
    write_reports(run, report, json_path=json_path, sarif_path=sarif_path, entry=program_dir / "__main__.py")
    return 1 if report.has_mandatory_violations else 0


def _program_failure(error: Exception, program_dir: Path, stack: str | None) -> str:
    """What to tell the user when a program folder fails: what to do for config and imports, else the traceback."""
    from pulumi.config import ConfigMissingError, ConfigTypeError

    from offline.harness import pick_stack

    stack_file = program_dir / f"Pulumi.{pick_stack(program_dir, stack)}.yaml"
    folder, at = program_dir.resolve(), ""
    frames = traceback.extract_tb(error.__traceback__)
    for frame in frames:  # the innermost line of the program's own files
        path = Path(frame.filename).resolve()
        if path.is_relative_to(folder):
            at = f" (at {path.relative_to(folder)}:{frame.lineno})"
    if isinstance(error, ConfigMissingError):
        return (
            f"the program needs the config value {error.key!r}{at}, which {stack_file} does not set: add it "
            "under `config:` there (what `pulumi config set` writes), or name another stack with --stack"
        )
    if isinstance(error, ConfigTypeError):
        return (
            f"the program reads the config value {error.key!r} as {error.expect_type}{at}, which the value "
            f"{stack_file} sets is not (not echoed: it may be a secret): set it to one and run again"
        )
    if isinstance(error, ModuleNotFoundError) and error.name in REMOVED_STDLIB_MODULES:
        return (
            f"the program imports {error.name!r}{at}, which Python {REMOVED_STDLIB_MODULES[error.name]} removed from "
            f"its standard library (PEP 594/632); the offline engine runs Python "
            f"{sys.version_info.major}.{sys.version_info.minor}: drop the import or use its replacement"
        )
    if isinstance(error, ModuleNotFoundError) and error.name:
        requirements = program_dir / "requirements.txt"
        top = error.name.split(".", 1)[0]
        if "." not in error.name and not top.startswith("pulumi") and not _required(requirements, top):
            # Not a dependency the program declares: one of its own modules, missing from the folder.
            return (
                f"the program imports {error.name!r}{at}, which is neither installed nor a module of the program "
                f"(no {top}.py or {top}/ in {program_dir}, and requirements.txt does not list it): add the missing "
                "file, or install the package"
            )
        install = f"pip install -r {requirements}" if requirements.is_file() else f"pip install {error.name}"
        return (
            f"the program imports {error.name!r}{at}, which is not installed beside the offline engine: install "
            f"what the program needs ({install}) and run again"
        )
    if isinstance(error, KeyError) and _reads_environment(error):
        variable = error.args[0] if error.args else "?"
        return (
            f"the program reads the environment variable {variable!r}{at}, which is not set: set it "
            f"(export {variable}=...) and run again"
        )
    failure = f"{type(error).__name__}: {error}{at}"
    if _calls_aws_itself(error):
        return (
            f"the program calls AWS itself with boto3 ({failure}); offline there is no AWS account to answer: run "
            "it with `pulumi preview` and credentials, or keep the call out of the program (a dynamic provider)"
        )
    if isinstance(error, TypeError) and (required := re.fullmatch(r"Missing required property '(\w+)'", str(error))):
        return (
            f"the program gives the required property {required.group(1)!r} no value{at}: what it passes is None "
            "(often a config value read with config.get that the stack file does not set): set it and run again"
        )
    if isinstance(error, AssertionError) and str(error).startswith("get can only be used with classes decorated"):
        # The SDK answers a plain data source called with an unknown input with no result; the generated
        # function's pulumi.get on it raises this. `pulumi preview` stops at the same line.
        source = next((f.name for f in reversed(frames) if f.name.startswith("get_") and "pulumi_" in f.filename), "")
        named = f"{source}()" if source else "a data source"
        return (
            f"the program calls {named}{at} with an input unknown in a preview (an output of a resource not "
            f"created yet): the SDK gives such a call no result, so `pulumi preview` fails there too; call "
            f"{source or 'get_...'}_output() with the output instead"
        )
    if isinstance(error, FileNotFoundError) and error.filename:
        return (
            f"the program opens {error.filename!r}{at}, which is not on this machine: the offline engine runs the "
            "program as it is, so put the file there (or have the program read it from its folder or its config) "
            "and run again"
        )
    if (host := _network_host(error)) is not None:
        return (
            f"the program reaches {host or 'the network'} itself{at}, and the call failed ({type(error).__name__}): "
            "the offline engine runs the program as it is, network calls included: run it where that host "
            "answers, or keep the call out of the program"
        )
    pins = requirement_pins(program_dir)
    package = _failing_package(error, preferred=[name for name, (_, met) in pins.items() if not met])
    if package.startswith("pulumi_"):
        distribution = package.replace("_", "-")
        asked, met = pins.get(package, ("", False))
        if not asked:
            written_for = "which version it was written for is not pinned"
        elif met:
            written_for = f"the version requirements.txt asks, {asked}: the program uses an API it does not have"
        else:
            written_for = f"requirements.txt asks {asked}"
        return (
            f"the program fails on the API of the installed {distribution} {_installed_version(distribution)} "
            f"({written_for}): {failure}. Port it to the installed version to check it offline"
        )
    return f"the program in {program_dir} failed:\n{traceback.format_exc()}"


REMOVED_STDLIB_MODULES = {
    **dict.fromkeys(("asynchat", "asyncore", "distutils", "imp", "smtpd"), "3.12"),
    **dict.fromkeys(
        (
            "aifc",
            "audioop",
            "cgi",
            "cgitb",
            "chunk",
            "crypt",
            "imghdr",
            "mailcap",
            "msilib",
            "nis",
            "nntplib",
            "ossaudiodev",
            "pipes",
            "sndhdr",
            "spwd",
            "sunau",
            "telnetlib",
            "uu",
            "xdrlib",
            "lib2to3",
        ),
        "3.13",
    ),
}
"""Standard-library modules old programs import that Python removed, and the version that removed them."""


def _required(requirements: Path, module: str) -> bool:
    """Whether ``requirements`` (when there is one) may provide ``module``: a line naming it, or no file to tell.

    Distribution names differ from module names (``PyYAML`` gives ``yaml``), so any line mentioning the module's
    name counts, and a program with no ``requirements.txt`` is not judged.
    """
    if not requirements.is_file() or (requirements.parent / f"{module}.py").exists():
        return True
    wanted = module.lower().replace("_", "-")
    text = requirements.read_text(errors="replace").lower().replace("_", "-")
    return wanted in text


def _reads_environment(error: KeyError) -> bool:
    """Whether ``error`` is ``os.environ[name]`` of a variable that is not set."""
    frames = traceback.extract_tb(error.__traceback__)
    return bool(frames) and frames[-1].name == "__getitem__" and frames[-1].filename.endswith(("os.py", "<frozen os>"))


def _calls_aws_itself(error: BaseException) -> bool:
    """Whether ``error`` comes from boto3/botocore: the program calls AWS directly (a region, credentials…)."""
    if type(error).__module__.split(".", 1)[0] in ("botocore", "boto3"):
        return True
    return any(
        f"{os.sep}botocore{os.sep}" in frame.filename or f"{os.sep}boto3{os.sep}" in frame.filename
        for frame in traceback.extract_tb(error.__traceback__)
    )


_HTTP_CLIENTS = ("requests", "urllib3", "httpx", "aiohttp")


def _network_host(error: BaseException) -> str | None:
    """The host a failed network call of the program tried (``""`` when no error names one), or ``None``.

    A name that does not resolve, a refused or timed-out connection, or an HTTP client's error, anywhere in the
    chain of causes; the host is read from the client's request or from the message (``host='example.com'``).
    """
    import socket
    import urllib.error
    import urllib.parse

    seen: set[int] = set()
    failure: BaseException | None = error
    while failure is not None and id(failure) not in seen:
        seen.add(id(failure))
        client = type(failure).__module__.split(".", 1)[0] in _HTTP_CLIENTS
        if client or isinstance(failure, (socket.gaierror, ConnectionError, TimeoutError, urllib.error.URLError)):
            for url in (getattr(getattr(failure, "request", None), "url", None), *_request_urls(error)):
                if isinstance(url, str) and urllib.parse.urlsplit(url).hostname:
                    return urllib.parse.urlsplit(url).hostname or ""
            named = re.search(r"host='([^']+)'", str(error))
            return named.group(1) if named else ""
        failure = failure.__cause__ or failure.__context__
    return None


def _request_urls(error: BaseException) -> Iterator[object]:
    """The URLs of the requests the failed call's frames held (urllib's ``Request.full_url``, a client's ``url``)."""
    tb = error.__traceback__
    while tb is not None:
        for value in tb.tb_frame.f_locals.values():
            if type(value).__module__.split(".", 1)[0] in ("urllib", *_HTTP_CLIENTS):  # a request object, not any url
                yield getattr(value, "full_url", None) or getattr(value, "url", None)
        tb = tb.tb_next


def _failing_package(error: BaseException, preferred: Collection[str] = ()) -> str:
    """The top-level package whose API ``error`` is about (``pulumi_aws``), or ``""``.

    A missing attribute of one of its modules or objects, a name it does not export, a raise inside its code, or
    a call of one of its classes with arguments it no longer takes (raised at the program's line; of the packages
    defining a class of that name, one in ``preferred`` first).
    """
    if isinstance(error, AttributeError) and error.obj is not None:
        owner = error.obj.__name__ if isinstance(error.obj, type(sys)) else type(error.obj).__module__
        return owner.split(".", 1)[0]
    if isinstance(error, ImportError) and error.name:
        return error.name.split(".", 1)[0]
    if not isinstance(error, TypeError):
        return ""
    frames = traceback.extract_tb(error.__traceback__)
    if frames and "site-packages" in frames[-1].filename:
        parts = Path(frames[-1].filename).parts
        return parts[parts.index("site-packages") + 1] if parts.index("site-packages") + 1 < len(parts) else ""
    # Raised at the program's line: the packages defining a class of that name (``ProviderArgs`` is in several).
    called = str(error).split("(", 1)[0].split(".", 1)[0]
    defining = sorted(
        {
            name.split(".", 1)[0]
            for name, module in list(sys.modules.items())
            if name.startswith("pulumi_") and isinstance(getattr(module, called, None), type)
        }
    )
    return next((name for name in defining if name in preferred), defining[0] if defining else "")


def _installed_version(distribution: str) -> str:
    from importlib import metadata

    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "(version unknown)"


def requirement_pins(program_dir: Path) -> dict[str, tuple[str, bool]]:
    """The Pulumi packages the program's ``requirements.txt`` pins, and whether the installed version meets each.

    By import name: ``{"pulumi_aws": ("<5.0.0,>=4.0.0", False)}``. Lines that are not requirements, and packages
    not installed, are skipped.
    """
    from importlib import metadata

    from packaging.requirements import InvalidRequirement, Requirement

    requirements = program_dir / "requirements.txt"
    if not requirements.is_file():
        return {}
    pins: dict[str, tuple[str, bool]] = {}
    for line in requirements.read_text(errors="replace").splitlines():
        text = line.split("#", 1)[0].strip()
        if not text or text.startswith("-"):
            continue
        try:
            requirement = Requirement(text)
        except InvalidRequirement:
            continue
        import_name = requirement.name.lower().replace("-", "_").replace(".", "_")
        if not import_name.startswith("pulumi") or not requirement.specifier:
            continue
        try:
            installed = metadata.version(requirement.name)
        except metadata.PackageNotFoundError:
            continue
        pins[import_name] = (str(requirement.specifier), requirement.specifier.contains(installed, prereleases=True))
    return pins


def _backstop(seconds: float) -> threading.Timer:
    """A last resort for a program blocked in a call that never returns: say where, and exit 2.

    The watchdog of :func:`offline.harness.run_program_dir` needs the event loop to run; this one does not.
    """
    main_thread = threading.main_thread()

    def give_up() -> None:
        frame = sys._current_frames().get(main_thread.ident or 0)
        where = "".join(traceback.format_stack(frame, limit=3)) if frame is not None else ""
        sys.stderr.write(f"error: the program did not finish within {seconds:g} s; it is blocked in:\n{where}")
        sys.stderr.flush()
        os._exit(2)

    timer = threading.Timer(seconds + BACKSTOP_GRACE_SECONDS, give_up)
    timer.daemon = True
    timer.start()
    return timer


BACKSTOP_GRACE_SECONDS = 15.0


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``make preview`` (and of ``--program`` for any program)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--stack", default=None, help="stack name (default: $STACK, or dev)")
    parser.add_argument("--offline", action="store_true", help="always use the offline plan")
    parser.add_argument("--program", type=Path, help="run this Pulumi Python program folder instead of ours")
    parser.add_argument("--policy-config", type=Path, help="--policy-pack-config file for --program")
    parser.add_argument("--first-preview", action="store_true", help="with --program: every computed output unknown")
    parser.add_argument("--json", type=Path, dest="json_path", help="write the findings and remediations as JSON")
    parser.add_argument("--sarif", type=Path, dest="sarif_path", help="write the findings as SARIF 2.1.0")
    parser.add_argument(
        "--watchdog", type=float, help="with --program: seconds before a program still waiting is stopped (exit 2)"
    )
    parser.add_argument(
        "--uses-real-cli",
        action="store_true",
        help="only tell (exit 0 or 1) whether the real `pulumi preview` would run; make builds policy/venv then",
    )
    args = parser.parse_args(argv)

    if args.program is not None:
        return program_plan(
            args.program,
            stack=args.stack,
            policy_config=args.policy_config,
            first_preview=args.first_preview,
            json_path=args.json_path,
            sarif_path=args.sarif_path,
            watchdog_seconds=args.watchdog,
        )
    if args.policy_config or args.first_preview or args.watchdog:
        parser.error("--policy-config, --first-preview and --watchdog go with --program")
    args.stack = args.stack or os.environ.get("STACK", "dev")
    real_cli = not args.offline and shutil.which("pulumi") is not None and has_aws_credentials()
    if args.uses_real_cli:
        return 0 if real_cli else 1
    if real_cli:
        return subprocess.call(pulumi_preview_command(args.stack), cwd=PROJECT_DIR)
    return offline_plan(args.stack, json_path=args.json_path, sarif_path=args.sarif_path)


if __name__ == "__main__":
    # A plan is one short process that builds about a million objects living until it exits (the SDK's and
    # pulumi_aws's types, the records) and little cyclic garbage: the collector's passes over them took 0.35 s
    # of its 2.3 s of CPU and freed 3 MB (dev). It runs without them.
    gc.disable()
    status = main()
    # The interpreter's own shutdown frees, one by one, every object a plan built and collects them once more:
    # 0.6 s of CPU for dev. Nothing is left to clean up (the pack has stopped, reports are written and closed),
    # so the process ends here once its output is flushed, as mypy's does.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)
