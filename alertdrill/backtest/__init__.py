"""Backtesting: "would this config have paged last week?", answered by the real binaries.

``record`` pulls the series a stack's rules select from a Prometheus into one gzip-compressed
OpenMetrics file (:mod:`.recording`, :mod:`.record`); ``backtest`` backfills it into a real
Prometheus TSDB, evaluates every alerting rule over the range with range queries
(:mod:`.evaluate`), turns the results into the alerts' pending/firing/resolved timeline with
Prometheus's ``for`` / ``keep_firing_for`` semantics (:mod:`.alertstate`), replays that timeline
through each config's real Alertmanager cluster at a high time scale (:mod:`.replay`), and
compares what each config would have sent (:mod:`.compare`, :mod:`.render`).
"""
