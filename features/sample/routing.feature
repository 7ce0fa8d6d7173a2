Feature: Nested routes and `continue` fan alerts out to exactly the expected receivers
  Alerts are pushed straight into every Alertmanager peer, as Prometheus does, so these
  scenarios test the routing tree alone. "only … are notified" fails on a missing receiver
  and on any receiver nobody expected.

  Background:
    Given the stack "sample" is running

  Scenario: a critical frontend alert pages on-call and reaches the nested frontend route
    When the alert "CheckoutSlow" is pushed to Alertmanager with labels severity=critical, team=web, component=frontend
    Then only "oncall-pager" and "web-frontend" are notified of "CheckoutSlow" within 2 minutes
    When the alert "CheckoutSlow" is resolved in Alertmanager with labels severity=critical, team=web, component=frontend
    Then "web-frontend" is notified that "CheckoutSlow" resolved within 3 minutes

  Scenario: a warning for the web team stays with the web team's parent route
    When the alert "CacheMissesHigh" is pushed to Alertmanager with labels severity=warning, team=web
    Then only "team-web" is notified of "CacheMissesHigh" within 2 minutes
    And "team-web" is notified via slack of "CacheMissesHigh" within 2 minutes
    When the alert "CacheMissesHigh" is resolved in Alertmanager with labels severity=warning, team=web
    Then "team-web" is notified that "CacheMissesHigh" resolved within 3 minutes

  Scenario: an alert nobody claims falls through to the default receiver
    When the alert "OrphanAlert" is pushed to Alertmanager with labels severity=info
    Then only "default" is notified of "OrphanAlert" within 2 minutes
    When the alert "OrphanAlert" is resolved in Alertmanager with labels severity=info
    Then "default" is notified that "OrphanAlert" resolved within 3 minutes
