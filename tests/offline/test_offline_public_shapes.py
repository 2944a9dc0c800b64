"""The offline engine on more shapes of public programs that broke it (issue 22, second corpus).

Each program is small and ours, written the way the failing public program was: an IAM document passed as a
dict, ``custom_timeouts`` as the docs write them, a data source whose list output the program indexes, an AWS
managed policy looked up by name; and the programs the engine cannot run offline (an old SDK API, a call to AWS
through boto3, a module Python removed), which must say so in one line rather than with a traceback.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

from offline import preview as offline_preview
from offline.harness import UNKNOWN_OUTPUT, run_program_dir, timeout_seconds
from offline.recording import ProgramRun
from orderflow import pulumi_files

PROJECT_DIR = Path(__file__).resolve().parents[2]


def program(tmp_path: Path, source: str, *, requirements: str | None = None) -> Path:
    folder = tmp_path / "probe"
    folder.mkdir()
    (folder / "Pulumi.yaml").write_text("name: probe\nruntime: python\n")
    (folder / "__main__.py").write_text(textwrap.dedent(source).lstrip())
    if requirements is not None:
        (folder / "requirements.txt").write_text(requirements)
    return folder


def run(folder: Path, **options: Any) -> ProgramRun:
    return run_program_dir(folder, files=pulumi_files, watchdog_seconds=60, **options)


def failure(folder: Path, capsys: pytest.CaptureFixture[str]) -> str:
    """What ``offline.preview --program`` prints for a program that cannot run (it must exit 2)."""
    assert offline_preview.main(["--program", str(folder)]) == 2
    return capsys.readouterr().err


POLICY_AS_DICT = """
import pulumi
import pulumi_aws as aws

document = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "*"}]}
trust = {"Version": "2012-10-17",
         "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
policy = aws.iam.Policy("read", policy=pulumi.Output.from_input(document))
role = aws.iam.Role("role", assume_role_policy=trust,
                    inline_policies=[aws.iam.RoleInlinePolicyArgs(name="inline", policy=document)])
aws.iam.RolePolicyAttachment("attach", role=role.name, policy_arn=policy.arn)
pulumi.export("policy", policy.policy)
pulumi.export("inline", role.inline_policies[0].policy)
"""


@pytest.mark.parametrize("first_preview", [False, True])
def test_an_iam_document_given_as_a_dict_comes_back_as_the_json_text_the_provider_returns(
    tmp_path: Path, first_preview: bool
) -> None:
    # Before: AssertionError "Unexpected type; expected a value of type str but got dict ... property policy",
    # raised where the program used the policy's outputs (the attachment's policy_arn).
    recorded = run(program(tmp_path, POLICY_AS_DICT), first_preview=first_preview)
    assert json.loads(recorded.outputs["policy"])["Statement"][0]["Action"] == ["s3:GetObject"]
    assert json.loads(recorded.outputs["inline"])["Version"] == "2012-10-17"
    assert recorded.named("attach").type == "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
    # The pack still gets the program's own inputs.
    assert recorded.named("read").inputs["policy"]["Statement"][0]["Resource"] == "*"


def test_a_dict_document_holding_a_value_unknown_in_a_first_preview_comes_back_unknown(tmp_path: Path) -> None:
    # Before: TypeError "Object of type Unknown is not JSON serializable" (a public program's bucket policy
    # named its bucket's ARN).
    folder = program(
        tmp_path,
        """
        import pulumi
        import pulumi_aws as aws
        bucket = aws.s3.Bucket("site")
        statement = {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": bucket.arn}
        policy = aws.iam.Policy("read", policy={"Version": "2012-10-17", "Statement": [statement]})
        pulumi.export("policy", policy.policy)
        """,
    )
    preview = run(folder, first_preview=True)
    assert preview.outputs["policy"] == UNKNOWN_OUTPUT  # until the bucket exists, as the provider's text is
    assert preview.named("read").inputs["policy"]["Version"] == "2012-10-17"
    update = run(folder)
    assert json.loads(update.outputs["policy"])["Statement"][0]["Resource"].startswith("arn:aws:s3:::")


def test_custom_timeouts_reach_the_pack_in_seconds_as_the_engine_parses_them(tmp_path: Path) -> None:
    # Before: the pack client stopped the plan with ValueError "could not convert string to float: '10m'".
    folder = program(
        tmp_path,
        """
        import pulumi
        import pulumi_aws as aws
        timeouts = pulumi.CustomTimeouts(create="10m", delete="1h30m")
        aws.dynamodb.Table("t", hash_key="id", attributes=[{"name": "id", "type": "S"}], billing_mode="PAY_PER_REQUEST",
                           opts=pulumi.ResourceOptions(custom_timeouts=timeouts))
        """,
    )
    assert run(folder).named("t").options["customTimeouts"] == {"create": 600.0, "update": 0.0, "delete": 5400.0}
    assert offline_preview.main(["--program", str(folder)]) in (0, 1)


@pytest.mark.parametrize(
    ("written", "seconds"),
    [("10m", 600.0), ("1h30m", 5400.0), ("1.5h", 5400.0), ("300ms", 0.3), ("2m3.5s", 123.5), ("0", 0.0), ("", 0.0)],
)
def test_a_timeout_is_read_as_go_reads_a_duration(written: str, seconds: float) -> None:
    assert timeout_seconds(written) == pytest.approx(seconds)


@pytest.mark.parametrize("written", ["10", "10 minutes", "m", "1d"])
def test_a_timeout_go_would_not_parse_is_refused_as_the_engine_refuses_it(written: str) -> None:
    with pytest.raises(ValueError, match="unable to parse customTimeout Value"):
        timeout_seconds(written)


def test_a_data_source_list_of_ids_holds_one_id_the_program_can_index(tmp_path: Path) -> None:
    # Before: IndexError on route.ids[0] (a generic data source answered every list as []).
    folder = program(
        tmp_path,
        """
        import pulumi
        import pulumi_aws as aws
        tables = aws.ec2.get_route_tables(vpc_id="vpc-1")
        zone = aws.route53.get_zone(name="example.com")
        pulumi.export("first", tables.ids[0])
        pulumi.export("servers", zone.name_servers)
        """,
    )
    recorded = run(folder)
    assert recorded.outputs["first"] == "offline-id"
    assert recorded.outputs["servers"] == ["offline-nameServer"]


def test_an_aws_managed_policy_looked_up_by_name_has_the_aws_owned_arn(tmp_path: Path) -> None:
    # Before: arn:aws:iam::123456789012:policy/AdministratorAccess, so iam-no-broad-managed-policies missed it.
    folder = program(
        tmp_path,
        """
        import pulumi_aws as aws
        role = aws.iam.Role("role", assume_role_policy='{"Version":"2012-10-17","Statement":[]}')
        admin = aws.iam.get_policy(name="AdministratorAccess")
        own = aws.iam.get_policy(name="orders-reader")
        aws.iam.RolePolicyAttachment("admin", role=role.name, policy_arn=admin.arn)
        aws.iam.RolePolicyAttachment("own", role=role.name, policy_arn=own.arn)
        """,
    )
    recorded = run(folder)
    assert recorded.named("admin").inputs["policyArn"] == "arn:aws:iam::aws:policy/AdministratorAccess"
    assert recorded.named("own").inputs["policyArn"] == "arn:aws:iam::123456789012:policy/orders-reader"
    result = json.loads(_gate_json(folder, tmp_path))
    assert [v["rule"] for v in result["violations"] if v["urn"].endswith("::admin")] == [
        "iam-no-broad-managed-policies"
    ]


def _gate_json(folder: Path, tmp_path: Path) -> str:
    report = tmp_path / "report.json"
    assert offline_preview.main(["--program", str(folder), "--json", str(report)]) == 1
    return report.read_text()


def test_a_program_written_for_an_older_sdk_is_named_in_one_line_with_the_version_it_asks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Before: exit 2 with a traceback ending in "module 'pulumi_aws.ec2' has no attribute 'get_subnet_ids'".
    folder = program(
        tmp_path,
        """
        import pulumi_aws as aws
        subnets = aws.ec2.get_subnet_ids(vpc_id="vpc-1")
        """,
        requirements="pulumi>=3.0.0,<4.0.0\npulumi-aws>=4.0.0,<5.0.0  # the v4 API\n",
    )
    error = failure(folder, capsys)
    assert "fails on the API of the installed pulumi-aws 7." in error
    assert "requirements.txt asks <5.0.0,>=4.0.0" in error
    assert "AttributeError: module 'pulumi_aws.ec2' has no attribute 'get_subnet_ids' (at __main__.py:2)" in error
    assert "Traceback" not in error


def test_an_old_argument_of_an_sdk_class_is_named_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = program(
        tmp_path,
        """
        import pulumi_aws as aws
        aws.ec2.Eip("ip", vpc=True)
        """,
        requirements="pulumi-aws==5.42.0\n",
    )
    error = failure(folder, capsys)
    assert "(requirements.txt asks ==5.42.0): TypeError: Eip._internal_init() got an unexpected keyword" in error
    assert "Traceback" not in error


def test_a_bug_in_the_programs_own_class_still_shows_its_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = program(
        tmp_path,
        """
        class VpnArgs:
            def __init__(self, static_routes):
                self.static_routes = static_routes
        print(VpnArgs([]).static_routes_only)
        """,
        requirements="pulumi-aws==5.42.0\n",
    )
    error = failure(folder, capsys)
    assert "Traceback" in error and "'VpnArgs' object has no attribute 'static_routes_only'" in error


def test_a_program_that_calls_aws_through_boto3_is_named_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Before: a botocore traceback (NoRegionError) from a boto3 client made inside an apply.
    for variable in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_CONFIG_FILE"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    folder = program(
        tmp_path,
        """
        import boto3
        import pulumi_aws as aws

        def wait_until_running(instance_id):
            boto3.client("ec2").describe_instances(InstanceIds=[instance_id])

        server = aws.ec2.Instance("web", ami="ami-0123456789abcdef0", instance_type="t3.micro")
        server.id.apply(wait_until_running)
        """,
    )
    error = failure(folder, capsys)
    assert "the program calls AWS itself with boto3 (NoRegionError" in error and "(at __main__.py:5)" in error
    assert "Traceback" not in error


def test_a_module_python_removed_is_named_with_the_version_that_removed_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = program(tmp_path, "import cgitb\ncgitb.enable(format='text')\n", requirements="pulumi\n")
    error = failure(folder, capsys)
    assert "imports 'cgitb' (at __main__.py:1), which Python 3.13 removed from its standard library" in error
    assert "pip install" not in error and "Traceback" not in error


LAZY_MODULE_PROBE = """
import sys, types
import pulumi_aws
from offline.mocks import invoke_result_type
assert type(sys.modules["pulumi_aws.ec2"]) is not types.ModuleType, "pulumi_aws loads its modules lazily"
print(invoke_result_type("aws:ec2/getVpc:getVpc"), type(sys.modules["pulumi_aws.ec2"]) is types.ModuleType)
pulumi_aws.ec2.Vpc  # the program's first use loads it
print(invoke_result_type("aws:ec2/getVpc:getVpc").__name__)
"""


def test_the_mocks_never_load_an_sdk_module_on_the_monitors_thread() -> None:
    # Before: the mocks loaded pulumi_aws.ec2 on the monitor's thread while the program's first `aws.ec2.X` loaded
    # it too, and the program saw it half initialized: "module 'pulumi_aws.ec2' has no attribute
    # 'VpcPeeringConnection'" (a public program with awsx VPCs and a peering connection).
    probe = subprocess.run(
        [sys.executable, "-c", LAZY_MODULE_PROBE], cwd=PROJECT_DIR, capture_output=True, text=True, check=True
    )
    assert probe.stdout.split("\n")[:2] == ["None False", "GetVpcResult"]


TRANSFORMS = """
import pulumi
import pulumi_aws as aws


def owner_tag(args):
    if not args.custom or not args.type_.startswith("aws:"):
        return None  # left as it is
    return pulumi.ResourceTransformResult({**args.props, "tags": {**(args.props.get("tags") or {}), "owner": "team"}},
                                          args.opts)


def protected(args):
    return pulumi.ResourceTransformResult(args.props, pulumi.ResourceOptions.merge(args.opts, pulumi.ResourceOptions(
        protect=True, ignore_changes=["tags"])))


def renamed(args):
    return pulumi.ResourceTransformResult({**args.props, "name": "orders-" + args.name}, args.opts)


class Store(pulumi.ComponentResource):
    def __init__(self, name, opts=None):
        super().__init__("probe:index:Store", name, None, opts)
        aws.sqs.Queue(f"{name}-queue", tags={"app": "shop"}, opts=pulumi.ResourceOptions(parent=self))
        self.register_outputs({})


before = aws.sqs.Queue("before")
pulumi.runtime.register_resource_transform(owner_tag)
aws.sqs.Queue("own", opts=pulumi.ResourceOptions(transforms=[protected]))
Store("store", opts=pulumi.ResourceOptions(transforms=[renamed]))
"""


@pytest.mark.parametrize("first_preview", [False, True])
def test_resource_transforms_run_as_the_engine_runs_them(tmp_path: Path, first_preview: bool) -> None:
    # Before: the SDK's mock monitor ran none of them: no owner tag, no protect, no name (tag rules decided wrongly).
    recorded = run(program(tmp_path, TRANSFORMS), first_preview=first_preview)
    assert "tags" not in recorded.named("before").inputs, "a stack transform reaches only later registrations"
    own = recorded.named("own")
    assert own.inputs["tags"] == {"owner": "team"}, "its own transform first, then the stack's"
    assert own.options["protect"] and own.options["ignoreChanges"] == ["tags"]
    child = recorded.named("store-queue")
    assert child.inputs["tags"] == {"app": "shop", "owner": "team"}, "the stack's transform reaches every child"
    assert child.inputs["name"] == "orders-store-queue", "a parent's transform reaches its children"
    assert recorded.named("store").inputs == {"name": "orders-store"}, "a component's own transform runs on it too"


@pytest.mark.parametrize("given", [1, "Single", [1]])
def test_an_awsx_object_input_given_as_a_scalar_reads_as_the_providers_typescript_reads_it(given: object) -> None:
    # Before: the model failed ("'float' object has no attribute 'get'") on natGateways=1 from a public program, and
    # the VPC's children went unchecked; the provider reads (1).strategy as undefined and makes one NAT per AZ.
    from offline.constructs import MODELS, ConstructContext

    def gateways(inputs: dict[str, Any]) -> int:
        context = ConstructContext(name="vpc", program_dir=Path("."), region="us-east-1")
        children = MODELS["awsx:ec2:Vpc"].build(inputs, context)
        return sum(1 for child in children if child.type == "aws:ec2/natGateway:NatGateway")

    assert gateways({"natGateways": given}) == gateways({}) == 3


COMPUTED_OUTPUTS = """
import json
import pulumi
import pulumi_aws as aws

alb = aws.lb.LoadBalancer("alb", load_balancer_type="application", subnets=["subnet-1", "subnet-2"])
db = aws.rds.Instance("db", engine="postgres", instance_class="db.t4g.micro", allocated_storage=20,
                      username="app", manage_master_user_password=True, skip_final_snapshot=True)
aws.ecs.TaskDefinition(
    "app",
    family="app",
    container_definitions=pulumi.Output.all(alb.dns_name, db.endpoint).apply(lambda values: json.dumps(
        [{"name": "app", "image": "nginx", "essential": True,
          "environment": [{"name": "URL", "value": values[0]}, {"name": "DB_PASSWORD", "value": "hunter2"}]}]
    )),
)
pulumi.export("alb", alb.arn)
pulumi.export("dns", alb.dns_name)
pulumi.export("zone", alb.zone_id)
server = aws.ec2.Instance("web", ami="ami-0123456789abcdef0", instance_type="t3.micro")
pulumi.export("ip", server.public_ip)
pulumi.export("host", server.public_dns)
"""


def test_an_update_sees_plausible_values_of_outputs_the_provider_computes(tmp_path: Path) -> None:
    # Before: a load balancer's dnsName (not modelled) was unknown in the update too, so the task definition's
    # containerDefinitions was unknown and the ECS rules could not decide (a public Fargate program).
    folder = program(tmp_path, COMPUTED_OUTPUTS)
    recorded = run(folder)
    dns = recorded.outputs["dns"]
    assert dns == f"{recorded.named('alb').id}.lb.us-east-1.amazonaws.com"
    assert recorded.outputs["ip"] == "192.0.2.10" and recorded.outputs["host"].endswith(".ec2.us-east-1.amazonaws.com")
    # ARNs and ids name resources the pack looks up in the stack: a made-up one would match none, so unknown.
    assert recorded.outputs["alb"] == recorded.outputs["zone"] == "(known after the update)"
    environment = json.loads(recorded.named("app").inputs["containerDefinitions"])[0]["environment"]
    assert environment[0] == {"name": "URL", "value": dns}
    report = tmp_path / "report.json"
    assert offline_preview.main(["--program", str(folder), "--json", str(report)]) == 1
    decided = [v for v in json.loads(report.read_text())["violations"] if v["urn"].endswith("::app")]
    assert [v["rule"] for v in decided if "ecs-no-secrets" in v["rule"]] == ["ecs-no-secrets-in-environment"]
    assert not any("cannot evaluate" in v["message"] for v in decided)
    # A first preview still knows none of them.
    assert run(folder, first_preview=True).outputs["dns"] == "(known after the update)"


def test_an_unknown_deep_in_an_export_is_shown_as_unknown_never_as_a_python_repr(tmp_path: Path) -> None:
    # Before: "<pulumi.output.Unknown object at 0x...>" under the export's list, in the plan and in --json.
    folder = program(
        tmp_path,
        """
        import pulumi
        import pulumi_aws as aws
        bucket = aws.s3.Bucket("b")
        pulumi.export("nested", {"list": [bucket.id, {"deep": pulumi.Output.concat("x-", bucket.arn)}], "n": 3})
        """,
    )
    recorded = run(folder, first_preview=True)
    unknown = "(known after the update)"
    assert recorded.outputs["nested"] == {"list": [unknown, {"deep": unknown}], "n": 3}
    assert offline_preview.format_outputs(recorded.outputs).splitlines() == [
        "    nested:",
        "      list:",
        f"        - {unknown}",
        "        -",
        f"          deep: {unknown}",
        "      n: 3",
    ]


STACK_REFERENCE = """
import pulumi
import pulumi_aws as aws

network = pulumi.StackReference(f"{pulumi.get_organization()}/network/{pulumi.get_stack()}")
subnet = aws.ec2.Subnet("s", vpc_id=network.get_output("vpcId"), cidr_block="10.0.1.0/24")
queue = aws.sqs.Queue("q")
pulumi.export("vpc", subnet.vpc_id.apply(lambda vpc: vpc.upper()))
pulumi.export("queue", queue)
pulumi.export("organization", pulumi.get_organization())
"""


def test_an_input_from_another_stack_stays_unknown_as_the_resources_output_in_an_update(tmp_path: Path) -> None:
    # Before: the subnet's vpc_id resolved None in the update (the SDK echoes a missing output's input, read as
    # None), so vpc.upper() raised; get_organization() was None; an exported resource printed as a repr.
    recorded = run(program(tmp_path, STACK_REFERENCE))
    assert recorded.outputs["vpc"] == "(known after the update)"
    assert recorded.outputs["organization"] == "organization"
    queue = recorded.named("q")
    assert recorded.outputs["queue"] == {"urn": queue.urn, "id": queue.id}


def test_a_data_source_block_and_list_of_blocks_have_fields_the_program_can_read(tmp_path: Path) -> None:
    # Before: a nested block of a generic data source was None and a list of blocks [], so the usual
    # cluster.vpc_config.vpc_id and cluster.certificate_authorities[0].data raised in the program.
    folder = program(
        tmp_path,
        """
        import pulumi
        import pulumi_aws as aws
        cluster = aws.eks.get_cluster(name="platform")
        pulumi.export("vpc", cluster.vpc_config.vpc_id)
        pulumi.export("subnets", cluster.vpc_config.subnet_ids)
        pulumi.export("ca", cluster.certificate_authorities[0].data)
        pulumi.export("endpoint", cluster.endpoint)
        """,
    )
    outputs = run(folder).outputs
    assert (outputs["vpc"], outputs["subnets"]) == ("offline-vpcId", ["offline-subnetId"])
    assert outputs["ca"] == "offline-data"
    assert outputs["endpoint"] == "offline.eks.us-east-1.amazonaws.com"


def test_a_module_of_the_program_missing_from_its_folder_is_not_sent_to_pip(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Before: "install what the program needs (pip install -r requirements.txt)" for the program's own vpc.py.
    folder = program(tmp_path, "import pulumi\nimport vpc\n", requirements="pulumi>=3\npulumi-aws>=6\n")
    error = failure(folder, capsys)
    assert "imports 'vpc' (at __main__.py:2), which is neither installed nor a module of the program" in error
    assert "no vpc.py or vpc/" in error and "pip install" not in error


def test_an_environment_variable_the_program_reads_is_named_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Before: a KeyError traceback from os.environ["AWS_REGION"] at the top of a public program.
    monkeypatch.delenv("ORDERS_TABLE_REGION", raising=False)
    folder = program(tmp_path, "import os\nimport pulumi\nREGION = os.environ['ORDERS_TABLE_REGION']\n")
    error = failure(folder, capsys)
    assert "reads the environment variable 'ORDERS_TABLE_REGION' (at __main__.py:3), which is not set" in error
    assert "Traceback" not in error


def test_a_pulumi_package_the_requirements_forget_is_still_sent_to_pip(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = program(tmp_path, "import pulumi\nimport pulumi_no_such_tls\n", requirements="pulumi>=3\npulumi-aws>=6\n")
    error = failure(folder, capsys)
    assert "imports 'pulumi_no_such_tls' (at __main__.py:2), which is not installed beside the offline engine" in error


def test_an_ecr_repository_url_has_the_shape_images_are_tagged_with(tmp_path: Path) -> None:
    # A made-up "https://…" URL would reach a docker-build image's tags once the update knows it.
    folder = program(
        tmp_path,
        """
        import pulumi
        import pulumi_aws as aws
        repository = aws.ecr.Repository("app", name="app")
        pulumi.export("url", repository.repository_url)
        """,
    )
    assert run(folder).outputs["url"] == "123456789012.dkr.ecr.us-east-1.amazonaws.com/app"


def test_an_ecr_login_decodes_as_docker_logs_in_with_it(tmp_path: Path) -> None:
    # Before: once the update knew the repository's registry id, the public voting-app examples decoded a
    # placeholder token ("Invalid base64-encoded string") inside their apply and stopped.
    folder = program(
        tmp_path,
        """
        import base64
        import pulumi
        import pulumi_aws as aws

        def login(registry_id):
            credentials = aws.ecr.get_credentials(registry_id=registry_id)
            user, password = base64.b64decode(credentials.authorization_token).decode().split(":")
            return {"server": credentials.proxy_endpoint, "user": user, "password": password}

        repository = aws.ecr.Repository("app")
        pulumi.export("login", repository.registry_id.apply(login))
        token = aws.ecr.get_authorization_token_output(registry_id=repository.registry_id)
        pulumi.export("user", token.user_name)
        """,
    )
    outputs = run(folder).outputs
    assert outputs["login"]["user"] == outputs["user"] == "AWS"
    assert outputs["login"]["server"] == "https://123456789012.dkr.ecr.us-east-1.amazonaws.com"


def test_an_api_the_pinned_and_installed_sdk_does_not_have_is_the_programs_own_fault(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A public example pins pulumi-aws 7 and calls an API that version never had: not "another version".
    installed = metadata.version("pulumi_aws")
    folder = program(
        tmp_path,
        "import pulumi_aws as aws\naws.ec2.get_subnet_ids(vpc_id='vpc-1')\n",
        requirements=f"pulumi-aws=={installed}\n",
    )
    error = failure(folder, capsys)
    assert f"(the version requirements.txt asks, =={installed}: the program uses an API it does not have)" in error
    assert "Traceback" not in error


def test_a_file_the_program_opens_outside_its_folder_is_named_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Before: a FileNotFoundError traceback from a public program reading its author's SSH key for a key pair.
    key = tmp_path / "home" / ".ssh" / "id_rsa.pub"
    folder = program(
        tmp_path,
        f"""
        import pulumi_aws as aws

        aws.ec2.KeyPair("deployer", public_key=open({str(key)!r}).read())
        """,
    )
    error = failure(folder, capsys)
    assert f"the program opens {str(key)!r} (at __main__.py:3), which is not on this machine" in error
    assert "Traceback" not in error


@pytest.mark.parametrize(
    "call",
    [
        "requests.get('https://randomuser.invalid/api/', timeout=5).json()",
        "urllib.request.urlopen('https://randomuser.invalid/api/', timeout=5).read()",
    ],
)
def test_a_network_call_of_the_program_that_fails_is_named_in_one_line_with_its_host(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], call: str
) -> None:
    # Before: a requests traceback (NameResolutionError) from a public program that names its users from a web API.
    # The .invalid domain never resolves (RFC 2606), with or without a network.
    folder = program(
        tmp_path,
        f"""
        import urllib.request

        import pulumi_aws as aws
        import requests

        user = {call}
        aws.iam.User("someone", name="someone")
        """,
    )
    error = failure(folder, capsys)
    assert "the program reaches randomuser.invalid itself (at __main__.py:6), and the call failed" in error
    assert "Traceback" not in error


RESOURCE_METHODS = """
import pulumi
import pulumi_aws as aws


class Cluster(pulumi.ComponentResource):
    # As pulumi_eks.Cluster: a multi-language component whose get_kubeconfig() its provider plugin serves.
    def __init__(self, name, opts=None):
        super().__init__("example:index:Cluster", name, {"kubeconfig": None}, opts, remote=True)

    def get_kubeconfig(self, profile_name=None):
        return pulumi.runtime.call("example:index:Cluster/getKubeconfig",
                                   {"__self__": self, "profileName": profile_name}, res=self)


east = aws.Provider("east", region="us-east-1")
aws.s3.Bucket("logs", opts=pulumi.ResourceOptions(provider=east))
cluster = Cluster("cluster")
pulumi.export("terraform", east.terraform_config().result)
pulumi.export("kubeconfig", cluster.get_kubeconfig(profile_name="ops"))
"""


@pytest.mark.parametrize("first_preview", [False, True])
def test_a_resource_method_the_program_calls_is_answered_unknown_and_named(tmp_path: Path, first_preview: bool) -> None:
    # Before: AttributeError "'RecordingMonitor' object has no attribute 'Call'" on a public pulumi-eks example's
    # cluster.get_kubeconfig(profile_name=...); aws.Provider.terraform_config() stopped the same way.
    recorded = run(program(tmp_path, RESOURCE_METHODS), first_preview=first_preview)
    assert recorded.unknown_calls == ["example:index:Cluster/getKubeconfig", "pulumi:providers:aws/terraformConfig"]
    assert recorded.named("logs").type == "aws:s3/bucket:Bucket"
    if first_preview:  # outside a preview the SDK itself reads an unknown as None
        assert recorded.outputs == {"terraform": UNKNOWN_OUTPUT, "kubeconfig": UNKNOWN_OUTPUT}


def test_the_plan_lists_the_resource_methods_it_could_not_answer(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = program(tmp_path, RESOURCE_METHODS)
    assert offline_preview.main(["--program", str(folder), "--first-preview"]) == 1, "the bucket is gated"
    printed = capsys.readouterr().out
    methods = printed.split("Resource methods answered unknown (their provider plugin does not run offline):\n")[1]
    listed = ["    example:index:Cluster/getKubeconfig", "    pulumi:providers:aws/terraformConfig"]
    assert methods.split("\n")[:2] == listed


FUNCTION_WITH_ITS_LOG_GROUP = """
import json

import pulumi_aws as aws

service = {"Service": "lambda.amazonaws.com"}
trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": service, "Action": "sts:AssumeRole"}]}
role = aws.iam.Role("handler", assume_role_policy=json.dumps(trust))
handler = aws.lambda_.Function("handler", role=role.arn, runtime="python3.13", handler="index.handler",
                               memory_size=256, timeout=10)
aws.cloudwatch.LogGroup("handler", name=handler.name.apply(lambda name: f"/aws/lambda/{name}"), retention_in_days=14)
"""


@pytest.mark.parametrize("first_preview", [False, True])
@pytest.mark.parametrize("with_log_group", [True, False])
def test_a_first_preview_knows_auto_names_so_the_log_group_rule_is_decided(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], first_preview: bool, with_log_group: bool
) -> None:
    # Before: in a first preview an auto-named function's log group rule was "cannot evaluate" (13 findings of
    # public programs), though pulumi preview knows the auto-name: the provider's Check writes it into the inputs.
    source = FUNCTION_WITH_ITS_LOG_GROUP if with_log_group else FUNCTION_WITH_ITS_LOG_GROUP.rsplit("\n", 2)[0]
    folder = program(tmp_path, source)
    report = tmp_path / "findings.json"
    offline_preview.main(["--program", str(folder), "--json", str(report), *(["--first-preview"] * first_preview)])
    capsys.readouterr()
    violations = json.loads(report.read_text())["violations"]
    about_retention = [v["level"] for v in violations if v["rule"] == "lambda-log-group-retention"]
    assert about_retention == ([] if with_log_group else ["mandatory"])


def test_a_config_value_of_the_wrong_type_is_named_in_one_line_without_its_value(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = program(tmp_path, "import pulumi\nsize = pulumi.Config().require_int('size')\n")
    (folder / "Pulumi.dev.yaml").write_text("config:\n  probe:size: s3cr3t-not-a-number\n")
    error = failure(folder, capsys)
    assert "reads the config value 'probe:size' as int (at __main__.py:2), which the value" in error
    assert "Pulumi.dev.yaml" in error and "s3cr3t-not-a-number" not in error and "Traceback" not in error


def test_a_required_property_the_program_leaves_none_is_named_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Before: blamed the installed pulumi-aws's API ("the program uses an API it does not have").
    folder = program(
        tmp_path,
        """
        import pulumi
        import pulumi_aws as aws

        aws.ec2.KeyPair("key", public_key=pulumi.Config().get("publicKey"))
        """,
    )
    error = failure(folder, capsys)
    assert "gives the required property 'public_key' no value (at __main__.py:4)" in error
    assert "API" not in error and "Traceback" not in error


def test_a_plain_data_source_given_an_unknown_output_names_its_output_form(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A public program passed a table's ARN (unknown in a preview) to the plain get_table.
    folder = program(
        tmp_path,
        """
        import pulumi_aws as aws

        table = aws.dynamodb.Table("t", attributes=[{"name": "pk", "type": "S"}], hash_key="pk",
                                   billing_mode="PAY_PER_REQUEST")
        found = aws.dynamodb.get_table(name=table.arn)
        """,
    )
    assert offline_preview.main(["--program", str(folder), "--first-preview"]) == 2
    error = capsys.readouterr().err
    assert "calls get_table() (at __main__.py:5) with an input unknown in a preview" in error
    assert "get_table_output()" in error and "Traceback" not in error
