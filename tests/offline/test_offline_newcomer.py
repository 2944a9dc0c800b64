"""A newcomer's mistakes, made in a copy of the project and caught by the first command they run.

Each test runs ``make`` (or the module) as a newcomer would and checks the message and the exit status.
GNU make exits 2 whenever a recipe fails; the plan's own status is in make's last line (``Error N``).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.offline.newcomer import PROJECT_DIR, copy_project, run_make, run_offline_preview

DEV_STACK = (PROJECT_DIR / "Pulumi.dev.yaml").read_text()
MAKE_FAILED = 2


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One copy for the stack-file mistakes (each test writes its own stack file)."""
    return copy_project(tmp_path_factory.mktemp("newcomer"))


def preview_with(project: Path, stack: str, stack_file: str) -> subprocess.CompletedProcess[str]:
    (project / f"Pulumi.{stack}.yaml").write_text(stack_file)
    return run_make(project, "preview", f"STACK={stack}")


def assert_failed_with(result: subprocess.CompletedProcess[str], status: int, message: str) -> None:
    output = result.stdout + result.stderr
    assert result.returncode == MAKE_FAILED, output
    assert f"preview] Error {status}" in result.stderr, output
    assert message in result.stderr, output


def test_a_misspelled_key_names_the_nearest_declared_key(project: Path) -> None:
    result = preview_with(project, "typo", DEV_STACK.replace("logRetentionDays:", "logRetentionDay:"))
    assert_failed_with(
        result,
        2,
        "config 'orderflow:logRetentionDay': unknown key; did you mean 'orderflow:logRetentionDays'?",
    )


def test_a_misspelled_namespace_names_the_project(project: Path) -> None:
    result = preview_with(project, "namespace", DEV_STACK.replace("orderflow:logLevel:", "orderfow:logLevel:"))
    assert_failed_with(
        result, 2, "config 'orderfow:logLevel': unknown namespace 'orderfow'; did you mean 'orderflow:logLevel'?"
    )


@pytest.mark.parametrize("value", [".nan", ".inf", "-.Inf", "NaN"])
def test_a_non_finite_number_is_refused_naming_its_key(project: Path, value: str) -> None:
    result = preview_with(
        project, "nonfinite", DEV_STACK.replace("orderflow:apiThrottleRate: 5", f"orderflow:apiThrottleRate: {value}")
    )
    assert_failed_with(result, 2, f"config 'orderflow:apiThrottleRate': must be a finite number, got '{value}'")
    assert "Traceback" not in result.stderr


def test_yes_is_a_string_as_the_pulumi_cli_reads_yaml(project: Path) -> None:
    result = preview_with(
        project, "yaml11", DEV_STACK.replace("orderflow:deletionProtection: false", "orderflow:deletionProtection: yes")
    )
    assert_failed_with(
        result,
        2,
        "config 'orderflow:deletionProtection': expected true or false, got 'yes' (the Pulumi CLI reads stack "
        "files as YAML 1.2, where yes/no/on/off are strings)",
    )


def test_a_secret_is_reported_as_unreadable_offline_not_as_a_bad_value(project: Path) -> None:
    stack_file = DEV_STACK + "  orderflow:operatorEmail:\n    secure: AAABAMq2ZlF3iV0KzgXQvW0=\n"
    result = preview_with(project, "secret", stack_file)
    assert_failed_with(
        result,
        2,
        "config 'orderflow:operatorEmail' in Pulumi.secret.yaml is a secret (secure:), which cannot be read offline",
    )
    assert "e-mail" not in result.stderr


def test_a_bug_in_the_program_prints_its_traceback_and_exits_3(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    program = project / "__main__.py"
    source = program.read_text()
    assert "bus_name = EventBus.planned_name(BUS)\n" in source
    program.write_text(source.replace("bus_name = EventBus.planned_name(BUS)\n", "bus_name = {}['bus']\n"))
    line = program.read_text().splitlines().index("bus_name = {}['bus']") + 1

    direct = run_offline_preview(project)
    assert direct.returncode == 3, direct.stderr
    assert "Traceback (most recent call last)" in direct.stderr
    assert f'__main__.py", line {line}' in direct.stderr
    assert f"the program raised KeyError: 'bus' at __main__.py:{line}" in direct.stderr
    assert "not a config error" in direct.stderr

    via_make = run_make(project, "preview")
    assert_failed_with(via_make, 3, f"the program raised KeyError: 'bus' at __main__.py:{line}")


def test_make_checks_the_python_version_before_building_anything(tmp_path: Path) -> None:
    project = copy_project(tmp_path, share=())
    old_python = tmp_path / "python3.9"
    old_python.write_text("#!/bin/sh\necho 3.9\n")
    old_python.chmod(0o755)

    too_old = run_make(project, "install", f"PYTHON={old_python}")
    missing = run_make(project, "install", "PYTHON=/nonexistent/python3")

    assert too_old.returncode == MAKE_FAILED
    wanted = (project / ".python-version").read_text().strip()
    assert f"orderflow needs Python {wanted} (.python-version" in too_old.stderr
    assert f"PYTHON={old_python} is 3.9." in too_old.stderr
    assert "is not found." in missing.stderr
    assert not (project / "venv").exists()


def test_a_failed_install_leaves_no_half_built_venv(tmp_path: Path) -> None:
    project = copy_project(tmp_path, share=())
    # No package index: pip fails after the venv was created, as it does on a machine without network.
    offline_pip = {"PIP_NO_INDEX": "1", "PIP_CONFIG_FILE": os.devnull, "PIP_FIND_LINKS": ""}

    result = run_make(project, "install", env=offline_pip)

    assert result.returncode == MAKE_FAILED
    assert "Installing orderflow's Python packages into venv/" in result.stdout
    assert "make: installing into venv/ failed or was interrupted: removed it; run make again" in result.stderr
    assert not (project / "venv").exists()


def test_the_real_preview_path_builds_the_policy_venv_first(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    requirements = project / "policy" / "requirements.txt"
    stat = requirements.stat()
    # The test checks the order of the steps, not PyPI: the policy venv gets a requirement already met.
    requirements.write_text("pip\n")
    os.utime(requirements, (stat.st_atime, stat.st_mtime))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    pulumi = bin_dir / "pulumi"
    pulumi.write_text(
        "#!/bin/sh\n"
        'if [ -f policy/venv/.installed ] && [ -x policy/venv/bin/python ]; then echo "policy venv ready"; fi\n'
        'echo "pulumi $*"\n'
    )
    pulumi.chmod(0o755)

    result = run_make(
        project,
        "preview",
        env={"PATH": f"{bin_dir}:{os.environ['PATH']}", "AWS_ACCESS_KEY_ID": "AKIAEXAMPLE", "HOME": str(tmp_path)},
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "Installing the policy pack's packages into policy/venv/" in result.stdout
    assert "policy venv ready" in result.stdout
    assert f"pulumi preview --stack dev --policy-pack {project}/policy" in result.stdout
