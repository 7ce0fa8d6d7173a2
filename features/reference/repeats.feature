Feature: An unresolved page is repeated on its route's schedule, and no sooner
  Seed 001's tree repeats critical pages every 5 minutes (the severity="critical" route) and
  the executives' and the escalated ones every 15 (repeat_interval). Alertmanager sends a
  repeat at the first group_interval tick (5 minutes) after repeat_interval has passed, so a
  5-minute repeat comes at 0, 5, 10 minutes and a 15-minute one at 0, 15, 30. A repeat that
  never comes is a page nobody re-reads at 3 a.m.; one that comes too often is noise.

  Background:
    Given the stack "reference" is running

  Scenario: a critical page with no team is repeated every 5 minutes
    When the alert "DrillCritical" is pushed to Alertmanager with labels severity=critical
    Then "critical-alerts" is notified of "DrillCritical" at least 3 times within 12 minutes, never twice within 4 minutes

  Scenario: the executives' immediate page is repeated every 15 minutes
    When the alert "DrillImmediate" is pushed to Alertmanager with labels severity=critical, escalation=immediate
    Then "executive-escalation" is notified of "DrillImmediate" at least twice within 17 minutes, never twice within 12 minutes

  Scenario: an escalated copy is repeated every 15 minutes
    When the alert "DrillEscalated" is pushed to Alertmanager with labels severity=critical, escalation=level-2
    Then "escalation-level-2" is notified of "DrillEscalated" at least twice within 17 minutes, never twice within 12 minutes
