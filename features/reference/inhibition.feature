Feature: A critical alert hides the warning of the same alert, until it resolves
  APIHighErrorRate exists at two levels: warning above 1 % (for 5 minutes) and critical above 3 %
  (for 3 minutes). The inhibit rule of seed 001 (critical hides warning with equal alertname,
  instance and service) must keep the warning out of dev-backend while the critical pages
  dev-critical, and let it through once only the warning holds.

  Background:
    Given the stack "reference" is running

  Scenario: 50 % errors page dev-critical only; at 2 % the critical resolves and the warning notifies
    When the 5xx rate of "api-service" is raised to 50 %
    Then "dev-critical" is notified of "APIHighErrorRate" within 6 minutes
    And "APIHighErrorRate" with labels severity=warning is inhibited within 8 minutes
    And "dev-backend" is never notified of "APIHighErrorRate" within 10 minutes
    When the 5xx rate of "api-service" is raised to 2 %
    Then "dev-critical" is notified that "APIHighErrorRate" resolved within 16 minutes
    And "dev-backend" is notified of "APIHighErrorRate" with labels severity=warning within 22 minutes
    When the faults of "api-service" are reverted
    Then "dev-backend" is notified that "APIHighErrorRate" resolved within 16 minutes
