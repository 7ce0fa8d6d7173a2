Feature: A receiver outage delays notifications but loses none
  Slack answers HTTP 500 for a while. Alertmanager keeps retrying (with back-off) and counts
  each failed request; when a notification's retries run out (Alertmanager's notify timeout,
  at least 10 measured seconds: a constant it does not let us scale, so "30 minutes" below
  holds for time scales up to about 150) it counts a failed notification and tries again at
  the next group interval. Once Slack is healed, the
  notification arrives. The probe shows Alertmanager routed the alert to the receiver all along.

  Background:
    Given the stack "sample" is running

  Scenario: Slack fails with HTTP 500, then heals, and the notification arrives
    When the slack integration of "team-web" fails with http 500
    And the alert "CacheMissesHigh" is pushed to Alertmanager with labels severity=warning, team=web
    Then "team-web" is notified of "CacheMissesHigh" within 2 minutes
    And Alertmanager counts failed slack notification attempts within 2 minutes
    And Alertmanager counts failed slack notifications within 30 minutes
    When the receiver "team-web" is healed
    Then "team-web" is notified via slack of "CacheMissesHigh" within 10 minutes
    When the alert "CacheMissesHigh" is resolved in Alertmanager with labels severity=warning, team=web
    Then "team-web" is notified via slack that "CacheMissesHigh" resolved within 3 minutes
