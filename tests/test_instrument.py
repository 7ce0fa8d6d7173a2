"""Instrumentation changes delivery only: every integration is sealed, routing is untouched."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from alertdrill.backends.binaries import find_binary
from alertdrill.engine.instrument import (
    TargetMap,
    fingerprint_secret,
    instrument_alertmanager,
    instrument_prometheus,
)
from alertdrill.errors import ConfigError
from alertdrill.sink.protocol import parse_email_address, parse_http_path
from alertdrill.yamlio import load_yaml

SAMPLE = Path(__file__).resolve().parents[1] / "stack" / "sample"
SINK = "http://127.0.0.1:5555"


def _instrumented(peer: int = 0):
    original = load_yaml(SAMPLE / "alertmanager.yml", "alertmanager.yml")
    return original, instrument_alertmanager(
        original, config_dir=SAMPLE, sink_url=SINK, smtp_address="127.0.0.1:2525", peer=peer
    )


def _all_urls(config: dict) -> list[str]:
    urls = []
    for receiver in config["receivers"]:
        for key, items in receiver.items():
            if key.endswith("_configs"):
                for item in items:
                    urls += [str(v) for k, v in item.items() if k in ("url", "api_url")]
    return urls


def test_routing_inhibition_and_templates_text_are_untouched() -> None:
    original, result = _instrumented()
    assert result.config["route"] == original["route"]
    assert result.config.get("inhibit_rules") == original.get("inhibit_rules")
    slack = result.config["receivers"][2]["slack_configs"][0]
    assert slack["title"] == original["receivers"][2]["slack_configs"][0]["title"]
    assert all(Path(t).is_absolute() for t in result.config["templates"])


def test_every_integration_is_attributable_and_nothing_leaves_loopback() -> None:
    _, result = _instrumented(peer=2)
    urls = _all_urls(result.config)
    assert urls and all(u.startswith(SINK + "/n/2/") for u in urls)
    parsed = {parse_http_path(u[len(SINK):]) for u in urls}
    assert {(d.receiver, d.integration) for d in parsed if d} >= {
        ("oncall-pager", "pagerduty"), ("team-web", "slack"), ("web-frontend", "webhook"),
        ("default", "probe"), ("team-db", "probe"),
    }
    email = result.config["receivers"][4]["email_configs"][0]
    dest = parse_email_address(email["to"])
    assert dest is not None and (dest.peer, dest.receiver, dest.integration) == (2, "team-db", "email")
    assert email["smarthost"] == "127.0.0.1:2525"
    assert email["headers"]["X-Alertdrill-Original-To"] == "dba@example.com"
    # one probe per receiver, and the destinations list covers every rewritten address
    assert sum(1 for d in result.destinations if d.integration == "probe") == 5
    assert len(result.destinations) == len(urls) + 1  # + the e-mail


def test_secrets_never_survive() -> None:
    _, result = _instrumented()
    text = yaml.safe_dump(result.config)
    for secret in ("not-a-real-password", "0123456789abcdef0123456789abcdef", "XXXXXXXX",
                   "smtp.example.com", "hooks.slack.com", "frontend-bot.example.com"):
        assert secret not in text
    key = result.config["receivers"][1]["pagerduty_configs"][0]["routing_key"]
    assert key == fingerprint_secret("0123456789abcdef0123456789abcdef")


def test_the_instrumented_config_is_valid_for_amtool(tmp_path: Path) -> None:
    _, result = _instrumented()
    path = result.dump(tmp_path / "am.yml")
    out = subprocess.run([find_binary("amtool"), "check-config", str(path)],
                         capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stdout + out.stderr


def test_unredirectable_integration_is_refused_not_sent_to_the_internet() -> None:
    config = {"route": {"receiver": "r"},
              "receivers": [{"name": "r", "pushover_configs": [{"user_key": "k", "token": "t"}]}]}
    with pytest.raises(ConfigError, match="pushover_configs"):
        instrument_alertmanager(config, config_dir=SAMPLE, sink_url=SINK,
                                smtp_address="127.0.0.1:1", peer=0)


def test_prometheus_targets_keep_their_written_instance_and_foreign_ones_are_dropped() -> None:
    original = load_yaml(SAMPLE / "prometheus.yml", "prometheus.yml")
    original["scrape_configs"].append(
        {"job_name": "prod", "static_configs": [{"targets": ["db.prod.example.com:9100"]}]})
    original["scrape_configs"].append({"job_name": "k8s", "kubernetes_sd_configs": [{}]})
    original["remote_write"] = [{"url": "https://metrics.example.com/write"}]
    result = instrument_prometheus(
        original,
        targets=[TargetMap("web:8080", "127.0.0.1:4001", "web"),
                 TargetMap("db:9187", "127.0.0.1:4002", "db")],
        alertmanagers=["127.0.0.1:9001", "127.0.0.1:9002"],
        rule_files=[Path("/tmp/r.yml")],
    )
    jobs = {j["job_name"]: j for j in result.config["scrape_configs"]}
    assert set(jobs) == {"web", "db"}
    web = jobs["web"]["static_configs"][0]
    assert web == {"targets": ["127.0.0.1:4001"],
                   "labels": {"team": "web", "service": "storefront", "instance": "web:8080"}}
    assert "remote_write" not in result.config
    assert result.config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] == [
        "127.0.0.1:9001", "127.0.0.1:9002"]
    assert any("db.prod.example.com" in w for w in result.warnings)
    assert any("kubernetes_sd_configs" in w for w in result.warnings)
    assert result.config["rule_files"] == ["/tmp/r.yml"]


def test_yaml_errors_name_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "alertmanager.yml"
    bad.write_text("route:\n  receiver: x\n   bad: [\n")
    with pytest.raises(ConfigError, match=r"alertmanager.yml:\d+:\d+"):
        load_yaml(bad, "alertmanager.yml")


def test_probe_jobs_reach_the_stack_and_keep_the_written_instance(tmp_path: Path) -> None:
    """A blackbox job: URL targets and the exporter's relabel replacement are mapped; a last
    relabel rule restores the written instance, which Prometheus really applies."""
    config = {
        "scrape_configs": [{
            "job_name": "probe",
            "metrics_path": "/probe",
            "static_configs": [{"targets": ["http://ocsp:8080/ocsp", "tls:8443"]}],
            "relabel_configs": [
                {"source_labels": ["__address__"], "target_label": "__param_target"},
                {"source_labels": ["__param_target"], "target_label": "instance"},
                {"target_label": "__address__", "replacement": "blackbox:9115"},
            ],
        }],
    }
    targets = [TargetMap("ocsp:8080", "127.0.0.1:1001", "ocsp"),
               TargetMap("tls:8443", "127.0.0.1:1002", "tls"),
               TargetMap("blackbox:9115", "127.0.0.1:1003", "blackbox")]
    result = instrument_prometheus(config, targets=targets, alertmanagers=["127.0.0.1:9"],
                                   rule_files=[])
    job = result.config["scrape_configs"][0]
    assert [g["targets"] for g in job["static_configs"]] == [
        ["http://127.0.0.1:1001/ocsp"], ["127.0.0.1:1002"]]
    assert job["relabel_configs"][2]["replacement"] == "127.0.0.1:1003"
    assert result.scrape_targets == 2
    restore = job["relabel_configs"][3:]
    assert [r["replacement"] for r in restore] == ["http://ocsp:8080/ocsp", "tls:8443"]
    # promtool agrees the rewritten config is valid (regexes included).
    path = tmp_path / "prometheus.yml"
    result.dump(path)
    check = subprocess.run([find_binary("promtool"), "check", "config", "--syntax-only", str(path)],
                           capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stdout + check.stderr


def test_webhooks_to_stack_services_are_recorded_and_forwarded() -> None:
    config = {
        "route": {"receiver": "r"},
        "receivers": [{"name": "r", "webhook_configs": [
            {"url": "http://escalation:5000/webhook?x=1"},
            {"url": "http://elsewhere.example:80/hook"}]}],
    }
    result = instrument_alertmanager(config, config_dir=Path("."), sink_url=SINK,
                                     smtp_address="127.0.0.1:2525", peer=1,
                                     services={"escalation:5000": "escalation-service"})
    assert result.forwards == {"r/webhook/0": ("escalation-service", "/webhook?x=1")}
    urls = [w["url"] for w in result.config["receivers"][0]["webhook_configs"]]
    assert all(u.startswith(SINK) for u in urls)  # both still go through the sink
