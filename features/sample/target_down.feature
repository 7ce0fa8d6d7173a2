Feature: A target that goes down pages the team that owns it, and only that team
  The sample stack scrapes two real processes, "web" and "db", every 15 s; TargetDown fires
  after 30 s of `up == 0` and Alertmanager waits 15 s before the first notification. Durations
  are real-world: at the default time scale (60) "2 minutes" is checked as 2 s (+ tolerance).
  Every SLA below counts from the last action of the scenario (the stop, then the start).

  Background:
    Given the stack "sample" is running

  @docker-subset
  Scenario: web stops, TargetDown fires and pages web's receivers, then resolves when web is back
    When the service "web" is stopped
    Then the alert "TargetDown" with labels instance=web:8080 fires within 2 minutes
    And "oncall-pager" is notified of "TargetDown" within 3 minutes
    And "oncall-pager" is notified via pagerduty of "TargetDown" within 3 minutes
    And "team-web" is notified via slack of "TargetDown" within 3 minutes
    And "team-db" is never notified of "TargetDown" within 3 minutes
    When the service "web" is started again
    Then the alert "TargetDown" resolves within 2 minutes
    And "team-web" is notified that "TargetDown" resolved within 3 minutes
    And "oncall-pager" is notified via pagerduty that "TargetDown" resolved within 3 minutes
