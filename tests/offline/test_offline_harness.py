"""The recording harness records what the engine would see."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from offline.harness import ProgramHangError, StackNotFoundError, load_stack_config, run_program
from offline.mocks import UnknownInvokeError
from orderflow.pulumi_files import ProjectFileError, SecretConfigError
from tests.recorded import recorded_program

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


def test_each_resource_is_handed_on_as_it_is_recorded_in_registration_order(tmp_path: Path) -> None:
    handed_on = []
    run = run_program("dev", project_dir=make_project(tmp_path), on_record=handed_on.append)
    assert len(handed_on) > 3  # the stack, a default provider, components and their children
    assert handed_on == run.resources


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
        "probe:numbers": "[1,2]",
        "probe:flag": "true",
    }


def test_stack_file_is_read_as_the_pulumi_cli_reads_it(tmp_path: Path) -> None:
    # The CLI keeps a scalar's text (YAML 1.2: yes is a string) and passes lists and maps as compact JSON.
    project = make_project(tmp_path)
    (project / "Pulumi.dev.yaml").write_text(
        "config:\n"
        "  probe:answer: yes\n"
        "  probe:rate: .nan\n"
        "  probe:octal: 010\n"
        "  probe:day: 2024-01-01\n"
        "  probe:quoted: 'on'\n"
        "  probe:empty:\n"
        "  probe:list: [yes, true, 0x10, 1.5]\n"
        "  probe:map: {a: off}\n"
    )
    assert load_stack_config("dev", project) == {
        "probe:answer": "yes",
        "probe:rate": ".nan",
        "probe:octal": "010",
        "probe:day": "2024-01-01",
        "probe:quoted": "on",
        "probe:empty": "",
        "probe:list": '["yes",true,16,1.5]',
        "probe:map": '{"a":"off"}',
    }


def test_project_defaults_fill_what_the_stack_does_not_set(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    (project / "Pulumi.yaml").write_text(
        "name: probe\nruntime: python\nconfig:\n"
        "  setting: {type: string, default: fallback}\n"
        "  size: {type: integer, default: 3}\n"
        "  origins: {type: array, items: {type: string}, default: [a]}\n"
        "  shorthand: 7\n"
        "  aws:region: {value: us-west-2}\n"
    )
    config = load_stack_config("dev", project)
    assert config["probe:setting"] == "hello"  # the stack's value wins
    assert config["aws:region"] == "eu-central-1"
    assert (config["probe:size"], config["probe:origins"], config["probe:shorthand"]) == ("3", '["a"]', "7")


def test_secure_values_are_reported_as_secrets_not_as_bad_values(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    (project / "Pulumi.dev.yaml").write_text(
        "config:\n  probe:token:\n    secure: AAABADQXFlU0mxC6l4Bw\n  probe:nested: [{secure: AAAB}]\n"
    )
    with pytest.raises(SecretConfigError, match=r"config 'probe:token', 'probe:nested' in Pulumi.dev.yaml is a "):
        load_stack_config("dev", project)


def test_a_non_finite_number_in_a_list_is_refused_like_the_cli_does(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    (project / "Pulumi.dev.yaml").write_text("config:\n  probe:rates: [1, .inf]\n")
    with pytest.raises(ProjectFileError, match=r"config 'probe:rates' in Pulumi.dev.yaml holds a non-finite"):
        load_stack_config("dev", project)


def test_unknown_stack_names_the_missing_file(tmp_path: Path) -> None:
    with pytest.raises(StackNotFoundError, match=r"stack 'nope': Pulumi.nope.yaml not found \(known stacks: dev\)"):
        run_program("nope", project_dir=make_project(tmp_path))


def test_unknown_invoke_raises_instead_of_returning_nothing(tmp_path: Path) -> None:
    program = "import pulumi_aws as aws\naws.ec2.get_vpc(default=True)\n"
    with pytest.raises(UnknownInvokeError, match="aws:ec2/getVpc:getVpc"):
        run_program("dev", project_dir=make_project(tmp_path, program))


def test_dev_and_prod_physical_names_differ_as_they_would_in_aws() -> None:
    # Auto-names carry a random suffix per stack: the offline plan must not show shared queues or ids.
    # The committed stacks' recordings, shared with the process's other readers (recording is pure).
    def auto_named(stack: str) -> dict[str, str]:
        run = recorded_program(stack)
        return {r.urn.split("::", 2)[2]: r.id for r in run.of_type("aws:sqs/queue:Queue")}

    dev, prod = auto_named("dev"), auto_named("prod")
    shared_logical = set(dev) & set(prod)
    assert len(shared_logical) >= 5
    assert all(dev[name] != prod[name] for name in shared_logical)
    assert set(dev.values()).isdisjoint(prod.values())


NEVER_RESOLVED = """
import asyncio
import pulumi
import pulumi_aws as aws

never = asyncio.get_event_loop().create_future()  # resolved by nobody
aws.sqs.Queue("ready")
"""


@pytest.mark.parametrize(
    ("waiting", "named"),
    [
        (
            'aws.sqs.Queue("waiting", name=pulumi.Output.from_input(never))',
            "registration of aws:sqs/queue:Queue 'waiting'",
        ),
        ('pulumi.export("waiting", pulumi.Output.from_input(never))', "stack output 'waiting'"),
    ],
    ids=["resource-input", "stack-output"],
)
def test_a_program_that_never_resolves_an_output_fails_at_the_deadline_naming_it(
    tmp_path: Path, waiting: str, named: str
) -> None:
    # Before: run_program waited for ever (a hung test fixture blocked its CI worker until the job timed out).
    project = make_project(tmp_path, NEVER_RESOLVED + waiting + "\n")
    with pytest.raises(ProgramHangError, match=r"did not finish within 0\.5 s") as stopped:
        run_program("dev", project_dir=project, deadline_seconds=0.5)
    assert named in str(stopped.value)
    # The run after a stopped one is clean.
    assert run_program("dev", project_dir=make_project(tmp_path, PROGRAM)).outputs["setting"] == "hello"


def test_mocks_give_a_task_definition_its_revision_and_arn_only_when_its_family_is_known() -> None:
    import pulumi

    from offline.mocks import ACCOUNT_ID, AwsMocks

    mocks = AwsMocks("eu-west-1", stack="dev")
    token = "aws:ecs/taskDefinition:TaskDefinition"
    first = mocks.new_resource(pulumi.runtime.MockResourceArgs(token, "web", {"family": "web"}))
    second = mocks.new_resource(pulumi.runtime.MockResourceArgs(token, "web-v2", {"family": "web"}))
    hashed = mocks.new_resource(pulumi.runtime.MockResourceArgs(token, "awsx", {"family": pulumi.runtime.rpc.UNKNOWN}))
    base = f"arn:aws:ecs:eu-west-1:{ACCOUNT_ID}:task-definition/web"
    assert first == (
        "web",
        {"family": "web", "arn": f"{base}:1", "arnWithoutRevision": base, "revision": 1, "id": "web"},
    )
    assert second[1]["arn"] == f"{base}:2"
    assert "arn" not in hashed[1] and hashed[0].startswith("awsx-")
