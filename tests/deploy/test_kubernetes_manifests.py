"""Kubernetes manifests: valid against the API schemas, consistent with the image and each other."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from tests.deploy.deploy_helpers import REPO_ROOT, RuntimeStage

K8S_DIR = REPO_ROOT / "deploy" / "k8s"
MANIFESTS = sorted(path for path in K8S_DIR.glob("*.yaml") if path.name != "kustomization.yaml")
# The oldest Kubernetes still common on GPU clusters, and the newest schema bundled.
KUBERNETES_VERSIONS = ("1.29.0", kubernetes_validate.latest_version())


def _documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def _resource(kind: str, name: str) -> dict[str, Any]:
    found = [
        doc
        for path in MANIFESTS
        for doc in _documents(path)
        if doc["kind"] == kind and doc["metadata"]["name"] == name
    ]
    assert len(found) == 1, f"expected one {kind} {name!r} in {K8S_DIR}, found {len(found)}"
    return found[0]


def _container(workload: dict[str, Any]) -> dict[str, Any]:
    (container,) = workload["spec"]["template"]["spec"]["containers"]
    return container


def _flag(args: list[str], name: str) -> str:
    """The value of ``--name=value`` or ``--name value`` in an argument list."""
    for i, arg in enumerate(args):
        if arg.startswith(f"{name}="):
            return arg.split("=", 1)[1]
        if arg == name:
            return args[i + 1]
    raise AssertionError(f"{name} not in {args}")


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("path", MANIFESTS, ids=lambda path: path.name)
def test_manifest_is_valid_against_the_api_schema(path: Path, version: str) -> None:
    for document in _documents(path):
        try:
            kubernetes_validate.validate(document, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            kind, name = document.get("kind"), document.get("metadata", {}).get("name")
            pytest.fail(f"{path.name}: {kind} {name}: {error.message} at {list(error.path)}")


def test_kustomization_lists_the_serving_stack() -> None:
    kustomization = yaml.safe_load((K8S_DIR / "kustomization.yaml").read_text())
    resources = set(kustomization["resources"])
    assert resources == {path.name for path in MANIFESTS} - {"train-job.yaml"}


def test_deployment_probes_ports_and_gpu(runtime_stage: RuntimeStage) -> None:
    deployment = _resource("Deployment", "hepgan")
    container = _container(deployment)
    (port,) = container["ports"]
    assert (port["containerPort"],) == runtime_stage.exposed_ports
    for probe, path in (("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")):
        http = container[probe]["httpGet"]
        assert http["path"] == path
        assert http["port"] in (port["name"], port["containerPort"])
    resources = container["resources"]
    assert resources["limits"]["nvidia.com/gpu"] == resources["requests"]["nvidia.com/gpu"] >= 1
    assert "memory" in resources["requests"] and "memory" in resources["limits"]
    # Same command as the image's default, models mounted read-only where the image expects them.
    assert container["args"] == runtime_stage.cmd
    mounts = {mount["mountPath"]: mount for mount in container["volumeMounts"]}
    assert mounts[runtime_stage.env["HEPGAN_MODELS_DIR"]]["readOnly"] is True
    pod_security = deployment["spec"]["template"]["spec"]["securityContext"]
    assert pod_security["runAsNonRoot"] is True
    assert str(pod_security["runAsUser"]) == runtime_stage.user.split(":")[0]
    assert deployment["spec"]["replicas"] >= 2


def test_service_and_pdb_select_the_deployment_pods() -> None:
    deployment = _resource("Deployment", "hepgan")
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    port_names = {port["name"] for port in _container(deployment)["ports"]}
    service = _resource("Service", "hepgan")
    assert service["spec"]["selector"].items() <= pod_labels.items()
    assert {port["targetPort"] for port in service["spec"]["ports"]} <= port_names
    pdb = _resource("PodDisruptionBudget", "hepgan")
    assert pdb["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    assert 1 <= pdb["spec"]["minAvailable"] < deployment["spec"]["replicas"]


def test_models_claim_is_shared_between_training_and_serving() -> None:
    claims = {doc["metadata"]["name"]: doc for doc in _documents(K8S_DIR / "storage.yaml")}
    for workload in (_resource("Deployment", "hepgan"), _resource("Job", "hepgan-train")):
        for volume in workload["spec"]["template"]["spec"]["volumes"]:
            if "persistentVolumeClaim" in volume:
                claim = claims[volume["persistentVolumeClaim"]["claimName"]]
                assert "ReadWriteMany" in claim["spec"]["accessModes"]


def _job_script_words(container: dict[str, Any]) -> list[str]:
    """The words of the Job's ``sh -c`` script, as the shell splits them."""
    assert container["command"] == ["/bin/sh", "-c"]
    (script,) = container["args"]
    return shlex.split(script.replace(";", " ; "))


def test_training_job_runs_torchrun_on_every_requested_gpu() -> None:
    job = _resource("Job", "hepgan-train")
    pod = job["spec"]["template"]["spec"]
    container = _container(job)
    words = _job_script_words(container)
    args = words[words.index("torchrun") + 1 :]
    gpus = container["resources"]["limits"]["nvidia.com/gpu"]
    assert int(_flag(args, "--nproc-per-node")) == gpus
    nodes = int(_flag(args, "--nnodes"))
    assert job["spec"]["completionMode"] == "Indexed"
    assert job["spec"]["completions"] == job["spec"]["parallelism"] == nodes
    # Pod 0 hosts the rendezvous, reached through the headless Service named as the subdomain.
    headless = _resource("Service", pod["subdomain"])
    assert headless["spec"]["clusterIP"] == "None"
    assert _flag(args, "--master-addr") == f"{job['metadata']['name']}-0.{pod['subdomain']}"
    assert int(_flag(args, "--master-port")) == headless["spec"]["ports"][0]["port"]
    rank_env = {env["name"]: env for env in container["env"]}["NODE_RANK"]
    assert "job-completion-index" in rank_env["valueFrom"]["fieldRef"]["fieldPath"]
    assert _flag(args, "--node-rank") == "$NODE_RANK"
    mounts = {mount["mountPath"] for mount in container["volumeMounts"]}
    assert {"/dev/shm", "/models", "/data"} <= mounts


def test_training_job_passes_flags_hepgan_train_accepts() -> None:
    """The Job's `hepgan train` arguments parse, and --resume is added only with a checkpoint."""
    from hepgan.cli import build_parser

    words = _job_script_words(_container(_resource("Job", "hepgan-train")))
    module = words.index("-m")
    assert words[module + 1 : module + 3] == ["hepgan.cli", "train"]
    train_args = [word for word in words[module + 2 :] if word != "$resume"]
    parsed = build_parser().parse_args([*train_args, "--resume"])
    assert parsed.command == "train" and parsed.resume is True
    assert parsed.out.startswith("/models/")
    assert f"{parsed.run_dir}/last.safetensors" in words  # the test that decides on --resume
