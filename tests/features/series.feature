Feature: Series stand-ins drive a team's own metrics: no exporter needed
  tests/data/series is a team's stack with no exporter alertdrill knows: Redis, an HTTP API and
  a batch job. Each target is answered by a series stand-in that serves the families the rules
  select, at a healthy baseline; the steps drive one series each. Durations are real-world (at
  the default time scale, 60, a minute is checked as a second). A rate() rule resolves once its
  5-minute window no longer holds the driven samples, so its resolution SLA is longer.

  Background:
    Given the stack "../data/series" is running

  Scenario: the Redis target goes down (up == 0)
    When the service "redis" is stopped
    Then the alert "RedisDown" fires within 2 minutes
    And "team-cache" is notified of "RedisDown" within 3 minutes
    When the service "redis" is started again
    Then the alert "RedisDown" resolves within 2 minutes
    And "team-cache" is notified that "RedisDown" resolved within 3 minutes

  Scenario: too many Redis clients (a gauge over its threshold)
    When the series redis_connected_clients{instance="redis:9121"} of "redis" is set to 950
    Then the alert "RedisTooManyConnections" fires within 3 minutes
    And "team-cache" is notified of "RedisTooManyConnections" within 4 minutes
    When the series redis_connected_clients of "redis" returns to its baseline
    Then the alert "RedisTooManyConnections" resolves within 2 minutes
    And "team-cache" is notified that "RedisTooManyConnections" resolved within 3 minutes

  Scenario: the API's 5xx share passes 5 % (a ratio of rate() of one counter)
    When the rate of http_requests_total{code="500"} of "api" rises to 12 per second
    Then the alert "ApiHighErrorRate" fires within 3 minutes
    And "team-web" is notified via slack of "ApiHighErrorRate" within 4 minutes
    When "api" returns to its baseline
    Then the alert "ApiHighErrorRate" resolves within 7 minutes
    And "team-web" is notified via slack that "ApiHighErrorRate" resolved within 8 minutes

  Scenario: the API's p99 latency passes 1 s (histogram_quantile)
    When the latency of http_request_duration_seconds of "api" rises to 2.5 seconds
    Then the alert "ApiSlow" fires within 3 minutes
    And "team-web" is notified via slack of "ApiSlow" within 4 minutes
    When the series http_request_duration_seconds of "api" returns to its baseline
    Then the alert "ApiSlow" resolves within 7 minutes
    And "team-web" is notified via slack that "ApiSlow" resolved within 8 minutes

  Scenario: the batch job's heartbeat series disappears (absent())
    When the series batch_last_success_timestamp_seconds of "batch" disappears
    Then the alert "BatchHeartbeatMissing" fires within 2 minutes
    And "team-data" is notified of "BatchHeartbeatMissing" within 3 minutes
    When "batch" returns to its baseline
    Then the alert "BatchHeartbeatMissing" resolves within 2 minutes
    And "team-data" is notified that "BatchHeartbeatMissing" resolved within 3 minutes
