Feature: Tickets: one per critical alert, in the team's Jira project
  The ticket service (a real process) receives the critical receivers' webhooks and creates
  tickets through the Jira REST API (the harness's sink speaks it): 001's mapping puts
  development in DEV, operations in OPS, dba in DBA. A warning opens none unless it carries
  create_ticket=true; a repeat notification never opens a second one.

  Background:
    Given the stack "reference" is running

  Scenario: WebAppDown opens exactly one DEV ticket, also across repeat notifications
    When the service "web-app" is stopped
    Then a ticket is opened in project "DEV" for "WebAppDown" within 3 minutes
    And "dev-critical" is notified of "WebAppDown" at least twice within 14 minutes
    And exactly one ticket is opened for "WebAppDown" within 14 minutes

  Scenario: a full disk opens an OPS ticket
    When the disk of "node-exporter" is filled to 95 %
    Then a ticket is opened in project "OPS" for "DiskSpaceLow" within 8 minutes

  Scenario: a slow API (a warning) reaches the backend team but opens no ticket
    When the latency of "api-service" is raised to 2 seconds
    Then "dev-backend" is notified of "APISlowResponse" within 11 minutes
    And no ticket is opened for "APISlowResponse" within 11 minutes

  Scenario: a warning that asks for a ticket gets one
    When the alert "APIDeprecatedEndpointUsed" is pushed to Alertmanager with labels severity=warning, team=development, tier=backend, service=api-service, instance=api-service:5000, create_ticket=true
    Then "dev-backend" is notified of "APIDeprecatedEndpointUsed" within 2 minutes
    And a ticket is opened in project "DEV" for "APIDeprecatedEndpointUsed" within 2 minutes
