"""The web UI's Deployment and Service in the rendered chart."""

import kubernetes_validate
import pytest
import yaml

from charts.test_chart_render import (
    CHART,
    K8S_VERSION,
    RELEASE,
    _kind_node_ports,
    env_of,
    helm_template,
    one,
    parse,
    pod_spec,
    service_url,
)

WEB = f"{RELEASE}-web"


@pytest.mark.parametrize("extra", [[], ["--set", "service.type=NodePort"]])
def test_the_web_ui_forwards_to_the_three_services_in_cluster(helm: str, extra: list[str]) -> None:
    rendered = helm_template(helm, *extra)
    assert rendered.returncode == 0, rendered.stderr
    docs = parse(rendered.stdout)
    values = yaml.safe_load((CHART / "values.yaml").read_text())["web"]
    deployment = one(docs, "Deployment", WEB)
    kubernetes_validate.validate(deployment, K8S_VERSION, strict=True)
    assert deployment["spec"]["replicas"] == values["replicaCount"]
    spec = pod_spec(deployment)
    assert spec["automountServiceAccountToken"] is False
    (container,) = spec["containers"]
    assert container["command"] == [
        "python", "-m", "incident_platform.web", "--host=0.0.0.0", "--port=8080",
        f"--workers={values['workers']}",
    ]  # fmt: skip
    env = env_of(container)
    assert env["WEB_INGESTION_URL"]["value"] == service_url(docs, "alert-ingestion")
    assert env["WEB_INCIDENTS_URL"]["value"] == service_url(docs, "incident-management")
    assert env["WEB_ONCALL_URL"]["value"] == service_url(docs, "oncall")
    # It holds no credential of its own: no secret, no database.
    assert not any("valueFrom" in variable for variable in env.values())
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        assert container[probe]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    service = one(docs, "Service", WEB)
    kubernetes_validate.validate(service, K8S_VERSION, strict=True)
    (port,) = service["spec"]["ports"]
    assert (port["port"], port["targetPort"]) == (8080, "http")
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()
    if extra:
        assert port["nodePort"] == _kind_node_ports()[8080] == values["nodePort"]
    else:
        assert service["spec"]["type"] == "ClusterIP"
        assert "nodePort" not in port


def test_the_web_ui_can_be_left_out(helm: str) -> None:
    rendered = helm_template(helm, "--set", "web.enabled=false")
    assert rendered.returncode == 0, rendered.stderr
    names = {doc["metadata"]["name"] for doc in parse(rendered.stdout)}
    assert WEB not in names


def test_the_schema_refuses_an_unknown_web_key(helm: str) -> None:
    rendered = helm_template(helm, "--set", "web.replicas=2")
    assert rendered.returncode != 0
    assert "replicas" in rendered.stderr
