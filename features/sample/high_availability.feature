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
    When the service "db" is started again
    Then "team-db" is notified that "TargetDown" resolved within 3 minutes

  Scenario: a peer killed mid-incident loses no notification
    When the service "alertmanager-0" is killed
    And the service "web" is stopped
    Then "team-web" is notified of "TargetDown" within 3 minutes
    And "oncall-pager" is notified of "TargetDown" within 3 minutes
    When the service "web" is started again
    Then "team-web" is notified that "TargetDown" resolved within 3 minutes

  Scenario: a peer frozen during an incident and then resumed causes at most one duplicate per group
    Alertmanager's documentation (high availability) promises at-least-once delivery: a peer
    that cannot see the others' notification log sends on its own, so a frozen-then-resumed
    peer may send each group once more. The scenario asserts that bound and records the
    duplicates it saw on the timeline (the "deliveries per group" check) and in the report.
    When the service "alertmanager-1" is paused
    And the service "web" is stopped
    Then "team-web" is notified of "TargetDown" within 3 minutes
    When the service "alertmanager-1" is resumed
    Then every group of "TargetDown" is delivered at least once and at most twice within 8 minutes of the first action
    When the service "web" is started again
    Then "team-web" is notified that "TargetDown" resolved within 3 minutes
