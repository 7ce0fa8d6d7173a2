Feature: Log-based alerts of the on-call runbooks, from real log lines
  mtail reads the api-service's access log and exports counters; the log-based rules of seeds
  003/004 (evaluated in Loki there) alert on them. A flood writes real lines into that log.

  Background:
    Given the stack "reference" is running

  Scenario: a flood of CRITICAL lines pages dev-critical, and clears once the flood is over
    When the log of "api-service" is flooded with 50 CRITICAL lines per second for 1 minute
    Then the alert "CriticalLogDetected" fires within 2 minutes
    And "dev-critical" is notified of "CriticalLogDetected" within 3 minutes
    And "dev-critical" is notified that "CriticalLogDetected" resolved within 15 minutes

  Scenario: payment errors in the log page dev-critical
    When the log of "api-service" is flooded with 5 ERROR lines per second for 1 minute saying "payment gateway error: card declined"
    Then the alert "PaymentProcessingErrors" fires within 2 minutes
    And "dev-critical" is notified of "PaymentProcessingErrors" within 3 minutes
    And "dev-critical" is notified that "PaymentProcessingErrors" resolved within 15 minutes
