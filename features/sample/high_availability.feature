Feature: A healthy three-peer Alertmanager cluster delivers every group exactly once
  Prometheus sends every alert to all three peers; the peers gossip their notification log
  and peer n waits n × peer-timeout before sending, so each group must reach each receiver
  once. This claim holds for a healthy, tuned cluster only; under faults Alertmanager is
  at-least-once by design.

  Background:
    Given the stack "sample" is running

  @docker-subset
  Scenario: db goes down and each receiver group gets exactly one notification
    When the service "db" is killed
    Then "team-db" is notified of "TargetDown" within 3 minutes
    And every group of "TargetDown" is delivered exactly once within 4 minutes
    And "oncall-pager" is notified of "TargetDown" exactly once within 4 minutes

  Scenario: a peer killed mid-incident loses no notification
    When the service "alertmanager-0" is killed
    And the service "web" is stopped
    Then "team-web" is notified of "TargetDown" within 3 minutes
    And "oncall-pager" is notified of "TargetDown" within 3 minutes
    When the service "web" is started again
    Then "team-web" is notified that "TargetDown" resolved within 3 minutes
