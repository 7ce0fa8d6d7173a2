@docker-only
Feature: An Alertmanager peer cut off from the cluster keeps notifying: it fails open
  Alertmanager's documentation (docs/high_availability.md) promises at-least-once delivery
  and, for a split brain, that "during network partitions, Alertmanager prefers to send
  duplicate notifications rather than miss critical alerts": each side of a partition sends
  its own notification ("Two notifications sent (one per partition)"). So one peer cut off
  from the other two may add at most one notification per group — never zero, never three.

  Here the Docker backend disconnects "alertmanager-1" from the cluster network only: it still
  gets Prometheus's alerts and still reaches the receivers, but not the other peers' gossip.
  The scenario prints the duplicates it counted. In 7 runs on the 2-core development machine
  it saw 2 duplicates every time: each of the new incident's 2 groups (team-db, oncall-pager)
  came exactly twice — once from each side of the split, as documented — and the groups
  notified before the partition (web's) were not sent again.

  Background:
    Given the stack "sample" is running

  @docker-subset
  Scenario: a peer partitioned mid-incident: delivery goes on, at most one extra notification per group
    When the service "web" is stopped
    Then "team-web" is notified of "TargetDown" within 3 minutes
    When the Alertmanager peer "alertmanager-1" is cut off from the other peers
    Then the Alertmanager peer "alertmanager-0" sees 2 cluster members within 5 minutes
    And the Alertmanager peer "alertmanager-1" sees 1 cluster member within 5 minutes
    When the service "db" is killed
    Then "team-db" is notified of "TargetDown" within 3 minutes
    And every group of "TargetDown" is delivered at most twice within 3 minutes
    When the Alertmanager peer "alertmanager-1" is reconnected
    Then the Alertmanager peer "alertmanager-1" sees 3 cluster members within 10 minutes
    When the service "db" is started again
    Then "team-db" is notified that "TargetDown" resolved within 3 minutes

  Scenario: Prometheus cut off from every Alertmanager: nothing is notified until it is back
    When Prometheus is cut off from the Alertmanagers
    And the service "web" is stopped
    Then the alert "TargetDown" with labels instance=web:8080 fires within 2 minutes
    And "team-web" is never notified of "TargetDown" within 3 minutes
    When Prometheus is reconnected to the Alertmanagers
    Then "team-web" is notified of "TargetDown" within 3 minutes
