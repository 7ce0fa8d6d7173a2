Feature: Repeats and tickets: an unresolved critical re-pages on schedule and opens one ticket
  The ticket service (a real process) receives the critical receivers' webhooks and creates
  tickets through the Jira REST API (the harness's sink speaks it): 001's mapping puts
  development in DEV, operations in OPS (see the disk scenario), dba in DBA. A warning opens
  none unless it carries create_ticket=true (the slow-API scenario shows none); a repeat
  notification — critical alerts repeat every 5 minutes — never opens a second one.

  Background:
    Given the stack "reference" is running

  Scenario: an unresolved WebAppDown repeats every 5 minutes and still opens exactly one DEV ticket
    When the service "web-app" is stopped
    Then a ticket is opened in project "DEV" for "WebAppDown" within 3 minutes
    And "dev-critical" is notified of "WebAppDown" at least 3 times within 25 minutes, never twice within 5 minutes
    And exactly one ticket is opened for "WebAppDown" within 25 minutes
    When the service "web-app" is started again
    Then "dev-critical" is notified that "WebAppDown" resolved within 7 minutes

  Scenario: a PostgreSQL outage opens a DBA ticket
    When the service "postgres" is stopped
    Then a ticket is opened in project "DBA" for "PostgreSQLDown" within 3 minutes
    When the service "postgres" is started again
    Then "dba-critical" is notified that "PostgreSQLDown" resolved within 8 minutes

  Scenario: a warning that asks for a ticket gets one
    When the alert "APIDeprecatedEndpointUsed" is pushed to Alertmanager with labels severity=warning, team=development, tier=backend, service=api-service, instance=api-service:5000, create_ticket=true
    Then only "dev-backend" is notified of "APIDeprecatedEndpointUsed" within 2 minutes
    And a ticket is opened in project "DEV" for "APIDeprecatedEndpointUsed" within 2 minutes
    When the alert "APIDeprecatedEndpointUsed" is resolved in Alertmanager with labels severity=warning, team=development, tier=backend, service=api-service, instance=api-service:5000, create_ticket=true
    Then "dev-backend" is notified that "APIDeprecatedEndpointUsed" resolved within 7 minutes
