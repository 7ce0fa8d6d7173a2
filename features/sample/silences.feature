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

  Scenario: a regex silence with a negative matcher holds the warnings of one family only
    When a silence for alertname=~"Cache.*", severity!="critical" is created by "oncall-ana" for 30 minutes with comment "cache rebuild, INC-43"
    And the alert "CacheMissesHigh" is pushed to Alertmanager with labels severity=warning, team=web
    And the alert "CacheNodeDown" is pushed to Alertmanager with labels severity=critical, team=web
    And the alert "ApiSlow" is pushed to Alertmanager with labels severity=warning, team=web
    Then "CacheMissesHigh" is silenced within 1 minute
    And "team-web" is notified of "CacheNodeDown" within 2 minutes
    And "team-web" is notified of "ApiSlow" within 2 minutes
    And "team-web" is never notified of "CacheMissesHigh" within 3 minutes

  Scenario: a silence starting in 3 minutes lets the first notification through, then holds
    When a silence for alertname="CacheMissesHigh" is created by "oncall-ana" for 15 minutes starting in 3 minutes with comment "planned cache rebuild, CHG-7"
    And the alert "CacheMissesHigh" is pushed to Alertmanager with labels severity=warning, team=web
    Then "team-web" is notified of "CacheMissesHigh" within 1 minute
    And "CacheMissesHigh" is silenced within 4 minutes
