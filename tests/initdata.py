"""A team's monitoring directory that alertdrill has never seen, for the ``init`` tests.

Three teams (cache, payments, platform) with their own rules and receivers, laid out as a
repository keeps them rather than as a stack directory wants: prometheus.yml in
``monitoring/prometheus/`` naming its rules by their production path, the rules in
``monitoring/rules/``, alertmanager.yml in ``monitoring/alertmanager/`` with a template. The
tree has a ``continue`` (critical alerts page on-call, then go on to the team), a nested route
(payments' warnings go to Slack), two inhibit rules the rules can exercise and one they cannot,
and a job found by Kubernetes service discovery.
"""

from __future__ import annotations

from pathlib import Path

PROMETHEUS = """\
# Production Prometheus of the Example Corp platform.
global:
  scrape_interval: 15s
  evaluation_interval: 15s
  external_labels:
    region: eu-west-1
rule_files:
  - /etc/prometheus/rules/*.yml
scrape_configs:
  - job_name: redis
    static_configs:
      - targets: ["redis-1.cache.internal:9121", "redis-2.cache.internal:9121"]
        labels: {team: cache}
  - job_name: payments-api
    static_configs:
      - targets: ["payments-api.internal:8080"]
        labels: {team: payments}
  - job_name: node
    static_configs:
      - targets: ["node-1.internal:9100", "node-2.internal:9100"]
        labels: {team: platform}
  - job_name: kubernetes-pods
    kubernetes_sd_configs:
      - role: pod
alerting:
  alertmanagers:
    - static_configs:
        - targets: ["alertmanager.internal:9093"]
"""

CACHE_RULES = """\
groups:
  - name: cache
    rules:
      - alert: RedisDown
        expr: redis_up{job="redis"} == 0
        for: 1m
        labels: {severity: critical}
        annotations: {summary: "Redis {{ $labels.instance }} is down"}
      - alert: RedisMemoryHigh
        expr: redis_memory_used_bytes{job="redis"} / redis_memory_max_bytes{job="redis"} > 0.9
        for: 5m
        labels: {severity: warning}
"""

PAYMENTS_RULES = """\
groups:
  - name: payments
    rules:
      - alert: PaymentsHighErrorRate
        expr: >
          sum by (instance, job, team) (rate(http_requests_total{job="payments-api", code=~"5.."}[5m]))
          / sum by (instance, job, team) (rate(http_requests_total{job="payments-api"}[5m])) > 0.05
        for: 5m
        labels: {severity: critical}
      - alert: PaymentsLatencyHigh
        expr: >
          histogram_quantile(0.99, sum by (le, instance, job, team)
          (rate(http_request_duration_seconds_bucket{job="payments-api"}[5m]))) > 1
        for: 10m
        labels: {severity: warning}
      - alert: PaymentsTargetMissing
        expr: absent(up{job="payments-api"})
        for: 5m
        labels: {severity: critical, team: payments}
"""

PLATFORM_RULES = """\
groups:
  - name: platform
    rules:
      - alert: NodeDown
        expr: up{job="node"} == 0
        for: 2m
        labels: {severity: critical}
      - alert: DiskAlmostFull
        expr: >
          node_filesystem_avail_bytes{job="node", mountpoint="/"}
          / node_filesystem_size_bytes{job="node", mountpoint="/"} < 0.1
        for: 10m
        labels: {severity: warning}
      - alert: KubePodCrashLooping
        expr: increase(kube_pod_container_status_restarts_total{job="kubernetes-pods"}[15m]) > 3
        labels: {severity: warning, team: platform}
"""

ALERTMANAGER = """\
global:
  resolve_timeout: 5m
  smtp_smarthost: smtp.example.com:587
  smtp_from: alertmanager@example.com
  slack_api_url: https://hooks.slack.com/services/T000/B000/XXXXXXXX
templates:
  - templates/*.tmpl
route:
  receiver: default-email
  group_by: [alertname, instance]
  group_wait: 30s
  group_interval: 5m
  repeat_interval: 4h
  routes:
    - matchers: ['severity="critical"']
      receiver: oncall-pagerduty
      continue: true
    - matchers: ['team="cache"']
      receiver: cache-slack
    - matchers: ['team="payments"']
      receiver: payments-webhook
      routes:
        - matchers: ['severity="warning"']
          receiver: payments-slack
    - matchers: ['team="platform"']
      receiver: platform-slack
inhibit_rules:
  - source_matchers: ['alertname="NodeDown"']
    target_matchers: ['team="platform"', 'severity="warning"']
    equal: [instance]
  - source_matchers: ['alertname="RedisDown"']
    target_matchers: ['alertname="RedisMemoryHigh"']
    equal: [instance]
  - source_matchers: ['alertname="DatacenterDown"']
    target_matchers: ['severity="warning"']
receivers:
  - name: default-email
    email_configs:
      - to: sre@example.com
  - name: oncall-pagerduty
    pagerduty_configs:
      - routing_key: 0123456789abcdef0123456789abcdef
  - name: cache-slack
    slack_configs:
      - channel: "#cache-alerts"
        title: '{{ template "teams.title" . }}'
        send_resolved: true
  - name: payments-webhook
    webhook_configs:
      - url: https://incidents.example.com/hooks/payments
  - name: payments-slack
    slack_configs:
      - channel: "#payments"
        title: '{{ template "teams.title" . }}'
  - name: platform-slack
    slack_configs:
      - channel: "#platform"
        title: '{{ template "teams.title" . }}'
        send_resolved: true
"""

TEMPLATE = """\
{{ define "teams.title" }}[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }}{{ end }}
"""


def write_team_configs(root: Path) -> Path:
    """Write the monitoring directory under ``root``; returns it."""
    monitoring = root / "monitoring"
    files = {
        "prometheus/prometheus.yml": PROMETHEUS,
        "rules/cache.yml": CACHE_RULES,
        "rules/payments.yml": PAYMENTS_RULES,
        "rules/platform.yml": PLATFORM_RULES,
        "alertmanager/alertmanager.yml": ALERTMANAGER,
        "alertmanager/templates/teams.tmpl": TEMPLATE,
        "README.md": "Example Corp's monitoring configs.\n",
    }
    for name, text in files.items():
        path = monitoring / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return monitoring
