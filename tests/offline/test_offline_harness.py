"""The recording harness records what the engine would see."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from offline.harness import StackNotFoundError, load_stack_config, run_program
from offline.mocks import UnknownInvokeError

PROGRAM = """
import pulumi
import pulumi_aws as aws

class Outer(pulumi.ComponentResource):
    def __init__(self, name, opts=None):
        super().__init__("test:index:Outer", name, None, opts)
        inner = pulumi.ComponentResource("test:index:Inner", f"{name}-inner", None, pulumi.ResourceOptions(parent=self))
        self.queue = aws.sqs.Queue(f"{name}-queue", opts=pulumi.ResourceOptions(parent=inner))
        self.policy = aws.sqs.QueuePolicy(
            f"{name}-policy", queue_url=self.queue.url, policy="{}", opts=pulumi.ResourceOptions(parent=inner)
        )
        self.register_outputs({})

outer = Outer("outer")
pulumi.export("queueUrl", outer.queue.url)
pulumi.export("setting", pulumi.Config().require("setting"))
"""


def make_project(tmp_path: Path, program: str = PROGRAM) -> Path:
    (tmp_path / "Pulumi.yaml").write_text("name: probe\nruntime: python\n")
    (tmp_path / "Pulumi.dev.yaml").write_text(
        "config:\n  aws:region: eu-central-1\n  probe:setting: hello\n  probe:numbers: [1, 2]\n  flag: true\n"
    )
    (tmp_path / "__main__.py").write_text(textwrap.dedent(program))
    return tmp_path


def test_nested_child_urn_carries_the_full_parent_type_chain(tmp_path: Path) -> None:
    run = run_program("dev", project_dir=make_project(tmp_path))
    queue = run.named("outer-queue")
    assert queue.urn == "urn:pulumi:dev::probe::test:index:Outer$test:index:Inner$aws:sqs/queue:Queue::outer-queue"
    assert queue.parent == run.named("outer-inner").urn
    # Top-level components carry no stack type, as the engine's URNs.
    assert run.named("outer").urn == "urn:pulumi:dev::probe::test:index:Outer::outer"


def test_records_dependencies_provider_inputs_and_outputs(tmp_path: Path) -> None:
    run = run_program("dev", project_dir=make_project(tmp_path))
    queue = run.named("outer-queue")
    policy = run.named("outer-policy")
    assert policy.property_dependencies["queueUrl"] == (queue.urn,)
    assert queue.urn in policy.dependencies
    provider = run.of_type("pulumi:providers:aws")[0]
    assert provider.name.startswith("default_7_")
    assert provider.inputs["region"] == "eu-central-1"
    assert policy.provider == f"{provider.urn}::{provider.id}"
    assert policy.inputs_struct.fields["policy"].string_value == "{}"
    assert run.outputs["queueUrl"] == queue.outputs["url"]
    assert queue.outputs["url"].startswith("https://sqs.eu-central-1.amazonaws.com/123456789012/outer-queue-")
    assert run.outputs["setting"] == "hello"


def test_each_run_starts_from_a_fresh_stack(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    first = run_program("dev", project_dir=project)
    second = run_program("dev", project_dir=project)
    assert [r.urn for r in first] == [r.urn for r in second]
    assert len(second.of_type("pulumi:pulumi:Stack")) == 1


def test_stack_config_is_qualified_and_json_encoded(tmp_path: Path) -> None:
    config = load_stack_config("dev", make_project(tmp_path))
    assert config == {
        "aws:region": "eu-central-1",
        "probe:setting": "hello",
        "probe:numbers": "[1, 2]",
        "probe:flag": "true",
    }


def test_unknown_stack_names_the_missing_file(tmp_path: Path) -> None:
    with pytest.raises(StackNotFoundError, match=r"stack 'nope': Pulumi.nope.yaml not found \(known stacks: dev\)"):
        run_program("nope", project_dir=make_project(tmp_path))


def test_unknown_invoke_raises_instead_of_returning_nothing(tmp_path: Path) -> None:
    program = "import pulumi_aws as aws\naws.ec2.get_vpc(default=True)\n"
    with pytest.raises(UnknownInvokeError, match="aws:ec2/getVpc:getVpc"):
        run_program("dev", project_dir=make_project(tmp_path, program))
