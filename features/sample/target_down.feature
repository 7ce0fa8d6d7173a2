Feature: A target that goes down pages the team that owns it, and only that team
  The sample stack scrapes two real processes, "web" and "db", every 250 ms; TargetDown
  fires after 500 ms of `up == 0` and Alertmanager waits 250 ms before the first notification.
  Every SLA below counts from the last action of the scenario (the stop, then the start).

  Background:
    Given the stack "sample" is running

  Scenario: web stops, TargetDown fires and pages web's receivers, then resolves when web is back
    When the service "web" is stopped
    Then the alert "TargetDown" with labels instance=web:8080 fires within 2 seconds
    And "oncall-pager" is notified of "TargetDown" within 3 seconds
    And "oncall-pager" is notified via pagerduty of "TargetDown" within 3 seconds
    And "team-web" is notified via slack of "TargetDown" within 3 seconds
    And "team-db" is never notified of "TargetDown" within 3 seconds
    When the service "web" is started again
    Then the alert "TargetDown" resolves within 2 seconds
    And "team-web" is notified that "TargetDown" resolved within 3 seconds
    And "oncall-pager" is notified via pagerduty that "TargetDown" resolved within 3 seconds
