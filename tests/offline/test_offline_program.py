"""``offline.preview --program``: any Pulumi Python program, recorded under mocks, gated by the pack."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from offline.harness import ProgramError, run_program_dir
from offline.mocks import policy_document
from orderflow import pulumi_files

PROJECT_DIR = Path(__file__).resolve().parents[2]


def program(tmp_path: Path, source: str, manifest: str = "name: probe\nruntime: python\n") -> Path:
    folder = tmp_path / "program"
    folder.mkdir()
    (folder / "Pulumi.yaml").write_text(manifest)
    (folder / "__main__.py").write_text(textwrap.dedent(source))
    return folder


def preview(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "offline.preview", *args], cwd=PROJECT_DIR, capture_output=True, text=True, check=False
    )


def test_program_runs_in_its_folder_with_its_modules_then_leaves_no_trace(tmp_path: Path) -> None:
    folder = program(
        tmp_path,
        """
        import os
        import pulumi
        import helper
        pulumi.export("cwd", os.getcwd())
        pulumi.export("greeting", helper.GREETING)
        """,
    )
    (folder / "helper.py").write_text("GREETING = 'hi'\n")
    before_path, before_cwd = list(sys.path), Path.cwd()
    run = run_program_dir(folder, files=pulumi_files)
    assert run.outputs == {"cwd": str(folder.resolve()), "greeting": "hi"}
    assert (run.project, run.stack, run.config["aws:region"]) == ("probe", "dev", "us-east-1")
    assert sys.path == before_path and Path.cwd() == before_cwd and "helper" not in sys.modules


def test_program_config_from_project_defaults_and_stack_file(tmp_path: Path) -> None:
    folder = program(
        tmp_path,
        """
        import pulumi
        config = pulumi.Config()
        pulumi.export("size", config.require_int("size"))
        pulumi.export("password", config.require_secret("password"))
        """,
        "name: probe\nruntime: python\nconfig:\n  size:\n    default: 3\n  aws:region: eu-north-1\n",
    )
    (folder / "Pulumi.qa.yaml").write_text("config:\n  probe:password:\n    secure: v1:AAAABBBB\n")
    run = run_program_dir(folder, files=pulumi_files)  # the only stack file picks the stack
    assert run.stack == "qa" and run.config["aws:region"] == "eu-north-1"
    assert run.outputs["size"] == 3 and run.outputs["password"] == "offline-secret-placeholder"


def test_unmodelled_outputs_are_unknown_never_none(tmp_path: Path) -> None:
    folder = program(
        tmp_path,
        """
        import pulumi
        import pulumi_aws as aws
        certificate = aws.acm.Certificate("cert", domain_name="example.com", validation_method="DNS")
        record = certificate.domain_validation_options.apply(lambda options: options[0].resource_record_name)
        aws.sqs.Queue("q", name=record.apply(lambda name: name.replace(".", "-")))
        pulumi.export("endpoint", certificate.domain_validation_options)
        """,
    )
    run = run_program_dir(folder, files=pulumi_files)  # options[0] on None (or on a made-up []) would raise
    assert run.outputs["endpoint"] == "(known after the update)"
    queue = run.named("q")  # its name is unknown, and goes to the pack as the engine's unknown sentinel
    assert queue.inputs_struct.fields["name"].string_value == "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


def test_first_preview_knows_the_auto_name_and_leaves_every_computed_output_unknown(tmp_path: Path) -> None:
    folder = program(
        tmp_path,
        """
        import pulumi
        import pulumi_aws as aws
        queue = aws.sqs.Queue("q")
        pulumi.export("arn", queue.arn)
        """,
    )
    update = run_program_dir(folder, files=pulumi_files)
    assert update.outputs["arn"].startswith("arn:aws:sqs:us-east-1:")
    first = run_program_dir(folder, files=pulumi_files, first_preview=True)
    assert first.preview and first.outputs["arn"] == "(known after the update)"
    # The provider's Check writes the auto-name into the inputs, so even a first preview knows it.
    assert first.named("q").outputs == {"name": update.named("q").outputs["name"]}
    assert first.named("q").outputs["name"].startswith("q-")


def test_policy_document_is_rendered_as_the_provider_does() -> None:
    rendered = policy_document(
        {
            "statements": [
                {
                    "sid": "Read",
                    "actions": ["s3:GetObject", "s3:ListBucket"],
                    "resources": ["arn:aws:s3:::b/*"],
                    "principals": [{"type": "AWS", "identifiers": ["arn:aws:iam::1:root"]}],
                    "conditions": [{"test": "Bool", "variable": "aws:SecureTransport", "values": ["true"]}],
                },
                {"actions": ["sts:AssumeRole"], "principals": [{"type": "*", "identifiers": ["*"]}]},
            ]
        }
    )
    document = json.loads(rendered["json"])
    assert document == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "Read",
                "Effect": "Allow",
                "Action": ["s3:ListBucket", "s3:GetObject"],
                "Resource": "arn:aws:s3:::b/*",
                "Principal": {"AWS": "arn:aws:iam::1:root"},
                "Condition": {"Bool": {"aws:SecureTransport": "true"}},
            },
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": "*"},
        ],
    }
    assert json.loads(rendered["minifiedJson"]) == document


def test_a_folder_that_is_not_a_python_program_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ProgramError, match=r"no Pulumi\.yaml"):
        run_program_dir(tmp_path, files=pulumi_files)
    folder = program(tmp_path, "", "name: probe\nruntime: nodejs\n")
    with pytest.raises(ProgramError, match="Python programs only"):
        run_program_dir(folder, files=pulumi_files)


def test_cli_exit_2_with_the_traceback_when_the_program_fails(tmp_path: Path) -> None:
    folder = program(tmp_path, "import pulumi\nraise ValueError('config size must be positive')\n")
    result = preview("--program", str(folder))
    assert result.returncode == 2
    assert "Traceback" in result.stderr and "ValueError: config size must be positive" in result.stderr


def test_cli_names_a_missing_config_value_and_the_stack_file_to_set_it_in(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from offline import preview as offline_preview

    folder = program(tmp_path, "import pulumi\n\npulumi.Config().require('bucketName')\n")
    assert offline_preview.main(["--program", str(folder)]) == 2
    error = capsys.readouterr().err
    assert "needs the config value 'probe:bucketName' (at __main__.py:3)" in error
    assert f"which {folder / 'Pulumi.dev.yaml'} does not set" in error and "Traceback" not in error


def test_cli_names_a_module_the_program_imports_that_is_not_installed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from offline import preview as offline_preview

    folder = program(tmp_path, "import pulumi\nimport storage\n")
    (folder / "storage.py").write_text("import pulumi_no_such_provider\n")
    (folder / "requirements.txt").write_text("pulumi-no-such-provider\n")
    assert offline_preview.main(["--program", str(folder)]) == 2
    error = capsys.readouterr().err
    assert "imports 'pulumi_no_such_provider' (at storage.py:1)" in error
    assert f"pip install -r {folder / 'requirements.txt'}" in error and "Traceback" not in error


def test_a_program_that_fails_after_registering_raises_promptly_and_the_next_run_is_clean(tmp_path: Path) -> None:
    # The queue waits on an output the rest of the program was to resolve; the SDK alone would wait for it forever.
    failing = program(
        tmp_path,
        """
        import pulumi
        import pulumi_aws as aws
        url, resolve_url = pulumi.deferred_output()
        aws.sqs.Queue("orders", tags={"url": url})
        raise pulumi.RunError("web/public/vendor/mqtt.esm.js is missing")
        """,
    )
    healthy = tmp_path / "healthy"
    healthy.mkdir()
    (healthy / "Pulumi.yaml").write_text("name: healthy\nruntime: python\n")
    (healthy / "__main__.py").write_text("import pulumi_aws as aws\naws.sqs.Queue('orders')\n")
    # A bystander task on the same loop (as Playwright's are in the browser tests) must be left running.
    script = f"""
import asyncio
import pulumi
from offline.harness import run_program_dir
from orderflow import pulumi_files
loop = asyncio.new_event_loop()
asyncio.set_event_loop(loop)
bystander = loop.create_task(asyncio.sleep(3600))
try:
    run_program_dir({str(failing)!r}, files=pulumi_files)
except pulumi.RunError as error:
    print("raised:", error)
print("bystander cancelled:", bystander.cancelled())
print("next run:", [r.type for r in run_program_dir({str(healthy)!r}, files=pulumi_files).resources])
"""
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=PROJECT_DIR, capture_output=True, text=True, check=False, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "raised: web/public/vendor/mqtt.esm.js is missing" in result.stdout
    assert "bystander cancelled: False" in result.stdout
    assert "next run: ['pulumi:pulumi:Stack', 'pulumi:providers:aws', 'aws:sqs/queue:Queue']" in result.stdout


def test_cli_exit_2_on_bad_arguments(tmp_path: Path) -> None:
    assert preview("--program", str(tmp_path / "missing")).returncode == 2
    assert preview("--watchdog", "3").returncode == 2  # --watchdog goes with --program
    folder = program(tmp_path, "import pulumi\n")
    bad_config = tmp_path / "bad.json"
    bad_config.write_text('{"sqs-redrive-policy": {"waivers": [{"resource": "q"}]}}')
    result = preview("--program", str(folder), "--policy-config", str(bad_config))
    assert result.returncode == 2 and "'reason' is a required property" in result.stderr


def test_cli_json_report_and_exit_1_on_a_mandatory_violation(tmp_path: Path) -> None:
    folder = program(tmp_path, "import pulumi_aws as aws\naws.sqs.Queue('orders')\n")
    report = tmp_path / "report.json"
    result = preview("--program", str(folder), "--json", str(report))
    assert result.returncode == 1, result.stderr
    document = json.loads(report.read_text())
    assert set(document) == {"resources", "violations", "remediations", "idleCostUsd", "notChecked", "modelled"}
    assert document["notChecked"] == document["modelled"] == []
    assert document["resources"] == 1 and document["idleCostUsd"] == 0
    [violation] = [v for v in document["violations"] if v["level"] == "mandatory"]
    assert violation["rule"] == "sqs-redrive-policy" and violation["urn"].endswith("::orders")
    assert "has no redrive policy" in violation["message"]
