"""Compliant stacks and one mutation per case for the stack rule on EBS encryption at rest.

Imported by ``policy_stack_cases`` once its helpers exist; its cases run and count with the others.
"""

from __future__ import annotations

from typing import Any

from policy_stack_cases import REGION, StackCase, add, bad, ok
from policy_testkit import UNKNOWN, Res

INSTANCE = "aws:ec2/instance:Instance"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
LAUNCH_CONFIGURATION = "aws:ec2/launchConfiguration:LaunchConfiguration"
VOLUME = "aws:ebs/volume:Volume"
DEFAULT_ENCRYPTION = "aws:ebs/encryptionByDefault:EncryptionByDefault"

EBS = "ec2-ebs-encrypted"

ENCRYPTED_ROOT = {"volumeSize": 20, "volumeType": "gp3", "encrypted": True}
DATA = {"deviceName": "/dev/sdf", "volumeSize": 100, "volumeType": "gp3"}


def instance(name: str = "web", **props: Any) -> Res:
    base: dict[str, Any] = {"ami": "ami-1", "instanceType": "t4g.micro", "rootBlockDevice": ENCRYPTED_ROOT}
    base |= props
    return Res(INSTANCE, name, {key: value for key, value in base.items() if value is not None})


def template(*mappings: dict[str, Any], **props: Any) -> Res:
    listed = {"blockDeviceMappings": list(mappings)} if mappings else {}
    return Res(LAUNCH_TEMPLATE, "nodes", {"imageId": "ami-1", "instanceType": "t4g.micro", **listed, **props})


def volume(**props: Any) -> Res:
    return Res(VOLUME, "data", {"availabilityZone": f"{REGION}a", "size": 100, "type": "gp3", **props})


def default_encryption(**props: Any) -> Res:
    return Res(DEFAULT_ENCRYPTION, "ebs-default-encryption", props)


def mapping(device: str = "/dev/xvda", **ebs: Any) -> dict[str, Any]:
    return {"deviceName": device, "ebs": {"volumeSize": 20, "volumeType": "gp3", **ebs}}


EBS_STACK_CASES: list[StackCase] = [
    # ---- instances
    ok(EBS, "encrypted-root-and-data", lambda: [instance(ebsBlockDevices=[{**DATA, "encrypted": True}])]),
    bad(EBS, "root-not-set", lambda: [instance(rootBlockDevice=None)], "instance web: the root volume (no rootBlock"),
    bad(
        EBS,
        "root-encrypted-off",
        lambda: [instance(rootBlockDevice={**ENCRYPTED_ROOT, "encrypted": False})],
        "instance web: rootBlockDevice not encrypted at rest",
    ),
    bad(
        EBS,
        "data-device-unset",
        lambda: [instance(ebsBlockDevices=[DATA])],
        "ebsBlockDevices[0] (/dev/sdf) (encrypted not set) not encrypted",
    ),
    ok(EBS, "data-device-from-a-snapshot", lambda: [instance(ebsBlockDevices=[{**DATA, "snapshotId": "snap-1"}])]),
    ok(
        EBS, "root-left-to-the-launch-template", lambda: [instance(rootBlockDevice=None, launchTemplate={"id": "lt-1"})]
    ),
    bad(
        EBS,
        "launch-template-does-not-cover-data-devices",
        lambda: [instance(rootBlockDevice=None, launchTemplate={"id": "lt-1"}, ebsBlockDevices=[DATA])],
        "ebsBlockDevices[0] (/dev/sdf)",
    ),
    # ---- account default encryption
    ok(EBS, "default-encryption-on", lambda: [instance(rootBlockDevice=None), default_encryption(enabled=True)]),
    ok(EBS, "default-encryption-enabled-by-default", lambda: [instance(rootBlockDevice=None), default_encryption()]),
    bad(
        EBS,
        "default-encryption-turned-off",
        lambda: [instance(rootBlockDevice=None), default_encryption(enabled=False)],
        "and the stack does not turn on default EBS encryption",
    ),
    bad(
        EBS,
        "default-encryption-of-another-region",
        lambda: [instance(rootBlockDevice=None, region=REGION), default_encryption(region="us-east-1")],
        "instance web: the root volume",
    ),
    ok(
        EBS,
        "preview-unknown-flag-but-default-encryption-on",
        lambda: [instance(rootBlockDevice={"encrypted": UNKNOWN}), default_encryption(enabled=True)],
    ),
    # ---- launch templates
    ok(EBS, "template-encrypted", lambda: [template(mapping(encrypted="true"))]),
    ok(
        EBS,
        "template-instance-store-beside-encrypted-ebs",
        lambda: [template({"deviceName": "/dev/sdb", "virtualName": "ephemeral0"}, mapping(encrypted="true"))],
    ),
    bad(
        EBS,
        "template-encrypted-false",
        lambda: [template(mapping(encrypted="false"))],
        "launch template nodes: blockDeviceMappings[0] (/dev/xvda) not encrypted",
    ),
    bad(
        EBS,
        "template-without-ebs-mappings",
        lambda: [template()],
        "the root volume (no blockDeviceMappings: it is created from the AMI's snapshot",
    ),
    ok(EBS, "template-mapping-from-a-snapshot", lambda: [template(mapping(snapshotId="snap-1"))]),
    # ---- launch configurations
    ok(
        EBS,
        "configuration-encrypted",
        lambda: [Res(LAUNCH_CONFIGURATION, "asg", {"imageId": "ami-1", "rootBlockDevice": ENCRYPTED_ROOT})],
    ),
    bad(
        EBS,
        "configuration-root-not-set",
        lambda: [Res(LAUNCH_CONFIGURATION, "asg", {"imageId": "ami-1", "instanceType": "t4g.micro"})],
        "launch configuration asg: the root volume",
    ),
    bad(
        EBS,
        "configuration-data-device-off",
        lambda: [
            Res(
                LAUNCH_CONFIGURATION,
                "asg",
                {
                    "imageId": "ami-1",
                    "rootBlockDevice": ENCRYPTED_ROOT,
                    "ebsBlockDevices": [{**DATA, "encrypted": False}],
                },
            )
        ],
        "launch configuration asg: ebsBlockDevices[0] (/dev/sdf) not encrypted",
    ),
    # ---- volumes
    ok(EBS, "volume-encrypted", lambda: [volume(encrypted=True)]),
    ok(EBS, "volume-from-a-snapshot", lambda: [volume(snapshotId="snap-1")]),
    bad(EBS, "volume-unset", lambda: [volume()], "volume data: the volume (encrypted not set) not encrypted"),
    ok(EBS, "volume-unset-with-default-encryption", lambda: add([volume()], default_encryption(enabled=True))),
]
