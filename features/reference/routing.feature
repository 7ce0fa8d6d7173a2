Feature: TechCorp routing from real failures: each alert reaches its team, and only it
  The reference stack of seed 001 (corrected; see stack/SEED-FINDINGS.md) with its real
  web-app and api-service. Durations are real-world; the stack runs at the default time scale.
  Critical alerts go to the team's critical receiver (`continue: true`), alerts labelled
  escalation=immediate also to executive-escalation; the generic critical-alerts receiver and
  the team's normal receiver must stay quiet. "only … are notified" fails on a missing receiver
  and on any other receiver that got the alert.

  Background:
    Given the stack "reference" is running

  Scenario: WebAppDown pages dev-critical and the executives, not critical-alerts nor dev-team
    When the service "web-app" is stopped
    Then the alert "WebAppDown" fires within 2 minutes
    And "dev-critical" is notified of "WebAppDown" within 3 minutes
    And "executive-escalation" is notified of "WebAppDown" within 3 minutes
    And "dev-critical" is notified via slack of "WebAppDown" within 3 minutes
    And "executive-escalation" is notified via pagerduty of "WebAppDown" within 3 minutes
    And only "dev-critical" and "executive-escalation" are notified of "WebAppDown" within 3 minutes
    When the service "web-app" is started again
    Then the alert "WebAppDown" resolves within 2 minutes
    And "dev-critical" is notified that "WebAppDown" resolved within 7 minutes

  Scenario: APIDown pages dev-critical alone
    When the service "api-service" is stopped
    Then the alert "APIDown" fires within 2 minutes
    And only "dev-critical" is notified of "APIDown" within 3 minutes
    When the service "api-service" is started again
    Then "dev-critical" is notified that "APIDown" resolved within 7 minutes

  Scenario: API errors page dev-critical, without executive escalation
    When the 5xx rate of "api-service" is raised to 50 %
    Then the alert "APIHighErrorRate" with labels severity=critical fires within 5 minutes
    And only "dev-critical" is notified of "APIHighErrorRate" within 6 minutes
    When the faults of "api-service" are reverted
    Then "dev-critical" is notified that "APIHighErrorRate" resolved within 15 minutes

  Scenario: a slow API is a warning for the backend team: no page, no ticket
    When the latency of "api-service" is raised to 2 seconds
    Then the alert "APISlowResponse" fires within 10 minutes
    And only "dev-backend" is notified of "APISlowResponse" within 11 minutes
    And no ticket is opened for "APISlowResponse" within 11 minutes
    When the faults of "api-service" are reverted
    Then "dev-backend" is notified that "APISlowResponse" resolved within 15 minutes

  Scenario: an exhausted connection pool pages dev-critical
    When the connection pool use of "api-service" is raised to 95 %
    Then the alert "APIDBConnectionPoolExhausted" fires within 4 minutes
    And only "dev-critical" is notified of "APIDBConnectionPoolExhausted" within 5 minutes
    When the faults of "api-service" are reverted
    Then "dev-critical" is notified that "APIDBConnectionPoolExhausted" resolved within 8 minutes
