"""DependencyLayer: one layer version per requirements file, architecture and runtime, built once."""

from __future__ import annotations

from pathlib import Path

import pulumi
import pytest

from components.layer import DependencyLayer, DependencyLayerArgs, build_key
from tests.components.conftest import PREFIX, build


@pytest.fixture
def requirements(tmp_path: Path) -> Path:
    path = tmp_path / "requirements.txt"
    path.write_text("pyjwt==2.10.1\n")
    return path


def prebuilt(requirements: Path, build_root: Path, architecture: str = "arm64", runtime: str = "python3.13") -> Path:
    """The build folder, made ready as an earlier build leaves it, so pip does not run here."""
    layer_dir = build_root / build_key(requirements, architecture, runtime, resolve_dependencies=True)
    (layer_dir / "python" / "pyjwt-2.10.1.dist-info").mkdir(parents=True)
    (layer_dir / "python" / "pyjwt-2.10.1.dist-info" / "METADATA").write_text("Name: PyJWT\nVersion: 2.10.1\n")
    return layer_dir


def test_defaults_an_arm64_python313_layer_from_the_built_folder(requirements: Path, tmp_path: Path) -> None:
    layer_dir = prebuilt(requirements, tmp_path / "build")
    built = build(lambda: DependencyLayer("jwt", DependencyLayerArgs(requirements, build_root=tmp_path / "build")))

    assert built.component.type == "orderflow:lambda:DependencyLayer"
    assert built.kinds() == {("aws:lambda/layerVersion:LayerVersion", "jwt-layer")}
    inputs = built.inputs("jwt-layer")
    code = inputs.pop("code")
    assert isinstance(code, pulumi.FileArchive) and code.path == str(layer_dir)
    assert inputs == {
        "layerName": f"{PREFIX}-jwt",
        "description": "Dependencies from requirements.txt",
        "compatibleArchitectures": ["arm64"],
        "compatibleRuntimes": ["python3.13"],
    }


def test_architecture_runtime_and_description_are_the_callers(requirements: Path, tmp_path: Path) -> None:
    prebuilt(requirements, tmp_path / "build", "x86_64", "python3.12")
    args = DependencyLayerArgs(
        requirements, architecture="x86_64", runtime="python3.12", description="PyJWT", build_root=tmp_path / "build"
    )
    inputs = build(lambda: DependencyLayer("jwt", args)).inputs("jwt-layer")

    assert inputs["compatibleArchitectures"] == ["x86_64"]
    assert inputs["compatibleRuntimes"] == ["python3.12"]
    assert inputs["description"] == "PyJWT"


def test_without_resolution_every_line_must_pin_before_anything_is_built(tmp_path: Path) -> None:
    loose = tmp_path / "requirements.txt"
    loose.write_text("pyjwt>=2\n")
    args = DependencyLayerArgs(loose, resolve_dependencies=False, build_root=tmp_path / "build")

    with pytest.raises(ValueError, match="pyjwt>=2"):
        build(lambda: DependencyLayer("jwt", args))
    assert not (tmp_path / "build").exists()
