"""The Kubernetes manifests and the compose file, checked without an engine
(none runs here: README, "Departures"): every Kubernetes object validates
strictly against the API schema of the oldest Kubernetes we document and of
the newest; the probes and healthchecks use SMS's health URLs; every
setting the manifests pass is one SMS reads."""

from pathlib import Path

import kubernetes_validate
import pytest
import yaml

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
MANIFESTS = sorted((DEPLOY / "k8s").glob("*.yaml"))


def _objects():
    for path in MANIFESTS:
        for document in yaml.safe_load_all(path.read_text()):
            if document:
                yield path.name, document


def test_there_are_manifests():
    assert {p.name for p in MANIFESTS} >= {"web.yaml", "worker.yaml", "beat.yaml", "config.yaml"}


@pytest.mark.parametrize("version", ["1.30.0", "1.37.0"])
def test_every_kubernetes_object_is_valid_strictly(version):
    for name, document in _objects():
        try:
            kubernetes_validate.validate(document, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            pytest.fail(f"{name} {document['kind']}/{document['metadata']['name']}: {error}")


def test_a_field_kubernetes_does_not_know_is_refused():
    """The check itself can fail: a misspelt field in a pod spec."""
    name, web = next((n, d) for n, d in _objects() if d["kind"] == "Deployment")
    web["spec"]["template"]["spec"]["containerz"] = []
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(web, "1.30.0", strict=True)


def test_probes_and_healthchecks_use_the_health_urls():
    web = next(d for _n, d in _objects() if d["metadata"]["name"] == "sms-web")
    (container,) = web["spec"]["template"]["spec"]["containers"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready/"
    # Liveness is a TCP check on purpose: a database outage must not restart pods.
    assert container["livenessProbe"]["tcpSocket"]["port"] == "http"
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    web_check = " ".join(compose["services"]["web"]["healthcheck"]["test"])
    assert "/health/ready/" in web_check


def test_the_config_map_passes_only_settings_sms_reads():
    settings_source = (DEPLOY.parent / "sms_platform" / "settings.py").read_text() + (
        DEPLOY / "gunicorn.conf.py"
    ).read_text()
    config = next(d for _n, d in _objects() if d["kind"] == "ConfigMap")
    unknown = [key for key in config["data"] if f'"{key}"' not in settings_source]
    assert not unknown, f"the ConfigMap sets what SMS never reads: {unknown}"
