Feature: Escalation of unresolved critical alerts on seed 001's schedule
  The escalation service (a real process) hears of a critical alert through the team's critical
  receiver and re-posts it through Alertmanager's v2 API with escalation=level-2 at 15 minutes,
  level-3 at 25 and executive at 30, counted from its first notification. Its state is in
  SQLite, so a restart loses nothing; a resolved alert cancels what is still pending.
  Bounds are from the outage: the first notification comes 1–2 minutes after it. An escalated
  copy resolves when the service hears the original resolved — one group interval (5 min) after
  Prometheus sees the recovery — and its own resolved notification waits for its group's next
  interval: up to 2 × 5 min + detection, hence 13 minutes.

  Background:
    Given the stack "reference" is running

  Scenario: an unresolved WebAppDown reaches level 2, level 3 and the executives on schedule
    When the service "web-app" is stopped
    Then "dev-critical" is notified of "WebAppDown" within 3 minutes
    And "escalation-level-2" is notified of "WebAppDown" between 15 and 19 minutes
    And "escalation-level-2" is notified via pagerduty of "WebAppDown" within 19 minutes
    And "escalation-level-3" is notified of "WebAppDown" between 25 and 29 minutes
    And "executive-escalation" is notified of "WebAppDown" with labels escalation=executive between 30 and 34 minutes
    When the service "web-app" is started again
    Then "escalation-level-2" is notified that "WebAppDown" resolved within 13 minutes
    And "escalation-level-3" is notified that "WebAppDown" resolved within 13 minutes

  Scenario: restarting the escalation service between level 2 and level 3 loses nothing
    When the service "postgres" is stopped
    Then "dba-critical" is notified of "PostgreSQLDown" within 3 minutes
    And "escalation-level-2" is notified of "PostgreSQLDown" between 15 and 19 minutes
    When the service "escalation-service" is restarted
    Then "escalation-level-3" is notified of "PostgreSQLDown" between 25 and 29 minutes
    And "executive-escalation" is notified of "PostgreSQLDown" with labels escalation=executive between 30 and 34 minutes
    When the service "postgres" is started again
    Then "dba-critical" is notified that "PostgreSQLDown" resolved within 8 minutes
    And "escalation-level-3" is notified that "PostgreSQLDown" resolved within 13 minutes

  Scenario: an alert resolved before level 2 is never escalated
    When the service "web-app" is stopped
    Then "dev-critical" is notified of "WebAppDown" within 3 minutes
    When the service "web-app" is started again
    Then "dev-critical" is notified that "WebAppDown" resolved within 8 minutes
    And "escalation-level-2" is never notified of "WebAppDown" within 20 minutes
