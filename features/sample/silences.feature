Feature: Silences made as the on-call guide says hold notifications, and only while they last
  The guide (seed 002) asks for an author, a comment and a bounded length (15 minutes) on
  every silence; the harness refuses a silence without a comment. The length is real-world
  and scaled like every other duration.

  Background:
    Given the stack "sample" is running

  Scenario: a 15-minute silence holds the notification until it expires
    When a silence for alertname="CacheMissesHigh" is created by "oncall-ana" for 15 minutes with comment "cache rebuild, INC-42"
    And the alert "CacheMissesHigh" is pushed to Alertmanager with labels severity=warning, team=web
    Then "CacheMissesHigh" is silenced within 2 minutes
    And "team-web" is never notified of "CacheMissesHigh" within 12 minutes
    And "team-web" is notified of "CacheMissesHigh" within 20 minutes
    When the alert "CacheMissesHigh" is resolved in Alertmanager with labels severity=warning, team=web
    Then "team-web" is notified that "CacheMissesHigh" resolved within 3 minutes

  Scenario: removing the silence lets the alert notify at once
    When a silence for alertname="CacheMissesHigh" is created by "oncall-ana" for 15 minutes with comment "cache rebuild, INC-42"
    And the alert "CacheMissesHigh" is pushed to Alertmanager with labels severity=warning, team=web
    Then "CacheMissesHigh" is silenced within 2 minutes
    When the silence for alertname="CacheMissesHigh" is removed
    Then "team-web" is notified of "CacheMissesHigh" within 3 minutes
    When the alert "CacheMissesHigh" is resolved in Alertmanager with labels severity=warning, team=web
    Then "team-web" is notified that "CacheMissesHigh" resolved within 3 minutes

  Scenario: a silence without a comment is refused
    Then a silence for alertname="CacheMissesHigh" by "bob" for 15 minutes without a comment is refused
