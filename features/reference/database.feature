Feature: TechCorp database outage: the DBAs and the executives are paged, the API's pool alert is hidden
  A real PostgreSQL (Debian's) with prometheus-postgres-exporter. Both the exporter and the
  api-service carry database=techcorp, which is what the PostgreSQLDown inhibition compares
  (the seed compared `instance`, which differs between the two exporters and never matched).

  Background:
    Given the stack "reference" is running

  Scenario: PostgreSQL down pages dba-critical and executive-escalation, not dba-team
    When the service "postgres" is stopped
    Then the alert "PostgreSQLDown" fires within 2 minutes
    And "dba-critical" is notified via pagerduty of "PostgreSQLDown" within 3 minutes
    And only "dba-critical" and "executive-escalation" are notified of "PostgreSQLDown" within 3 minutes
    When the service "postgres" is started again
    Then the alert "PostgreSQLDown" resolves within 2 minutes
    And "dba-critical" is notified that "PostgreSQLDown" resolved within 8 minutes

  Scenario: PostgreSQLDown hides the API's pool alert, which notifies once the database is back
    When the service "postgres" is stopped
    Then "dba-critical" is notified of "PostgreSQLDown" within 3 minutes
    When the connection pool use of "api-service" is raised to 95 %
    Then "APIDBConnectionPoolExhausted" is inhibited within 4 minutes
    And "dev-critical" is never notified of "APIDBConnectionPoolExhausted" within 4 minutes
    When the service "postgres" is started again
    Then "dev-critical" is notified of "APIDBConnectionPoolExhausted" within 8 minutes
    When the faults of "api-service" are reverted
    Then "dev-critical" is notified that "APIDBConnectionPoolExhausted" resolved within 8 minutes
