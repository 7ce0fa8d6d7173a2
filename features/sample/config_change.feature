Feature: Live config changes: what a deploy of a new alertmanager.yml or rule file does mid-incident
  The replacement files live in the stack directory (changes/); each is scaled and instrumented
  like the configs at start, and each tool's own metrics must say it reloaded. A Prometheus
  reload restarts its notifier's discovery (about 5 s measured, not scaled): the step returns
  once Prometheus lists its Alertmanagers again, and its note on the timeline says how long
  that took.

  Background:
    Given the stack "sample" is running

  Scenario: a routing change applies to new alerts and to the active ones, without re-sending the old group
    When the alert "CacheMissesHigh" is pushed to Alertmanager with labels severity=warning, team=web
    Then "team-web" is notified of "CacheMissesHigh" within 1 minute
    When the stack's alertmanager.yml is replaced by "changes/alertmanager-web-pages.yml"
    Then "oncall-pager" is notified of "CacheMissesHigh" within 1 minute
    And "team-web" is never notified of "CacheMissesHigh" within 3 minutes
    When the alert "ApiSlow" is pushed to Alertmanager with labels severity=warning, team=web
    Then "oncall-pager" is notified of "ApiSlow" within 1 minute
    And "team-web" is notified of "ApiSlow" within 1 minute

  Scenario: a rule change lengthening the wait holds the page back until its new for has passed
    When the rule file "rules/availability.yml" is replaced by "changes/availability-slow.yml"
    And the service "web" is stopped
    Then the alert "TargetDown" is pending within 1 minute
    And "oncall-pager" is never notified of "TargetDown" within 4 minutes
    And "oncall-pager" is notified of "TargetDown" within 7 minutes
