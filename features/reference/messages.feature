Feature: What the notifications say: seed 001's templates, a runbook in every page, exact alert sets
  A page that reaches the right receiver is half the promise; the other half is what the person
  paged reads: the e-mail subject naming the alert, the Slack text and the PagerDuty page
  carrying the runbook (seed 003: every critical rule has a runbook_url, and every PagerDuty
  integration links it). Pushed alerts with their own timing show what Alertmanager keeps of
  startsAt/endsAt, that an alert pushed with no end is resolved by resolve_timeout (5 minutes),
  and that a group's notification carries each alert with its own status. Inhibited alerts are
  never sent as firing; one integration of a receiver can be broken by its position.

  Background:
    Given the stack "reference" is running

  Scenario: WebAppDown's messages name the alert and the instance, and its page links the runbook
    When the service "web-app" is stopped
    Then the links of the pagerduty notification to "executive-escalation" of "WebAppDown" contain "https://wiki.techcorp.invalid/runbooks/web-app-down" within 3 minutes
    And the details of the pagerduty notification to "executive-escalation" of "WebAppDown" contain "runbook: https://wiki.techcorp.invalid/runbooks/web-app-down" within 3 minutes
    And the summary of the pagerduty notification to "executive-escalation" of "WebAppDown" is "Executive Escalation: WebAppDown" within 3 minutes
    And the severity of the pagerduty notification to "executive-escalation" of "WebAppDown" is "critical" within 3 minutes
    And the subject of the email notification to "dev-critical" of "WebAppDown" is "🔴 [DEV-CRITICAL] WebAppDown" within 3 minutes
    And the body of the email notification to "dev-critical" of "WebAppDown" contains "WebAppDown on web-app:80: Web application is down" within 3 minutes
    And the body of the email notification to "dev-critical" of "WebAppDown" contains "Runbook: https://wiki.techcorp.invalid/runbooks/web-app-down" within 3 minutes
    And the title of the slack notification to "dev-critical" of "WebAppDown" is "🔴 CRITICAL: Development Alert" within 3 minutes
    And the text of the slack notification to "dev-critical" of "WebAppDown" contains "Runbook: https://wiki.techcorp.invalid/runbooks/web-app-down" within 3 minutes
    And the text of the slack notification to "dev-critical" of "WebAppDown" does not contain "<no value>" within 3 minutes
    And the summary of the ticket in project "DEV" for "WebAppDown" is "[ALERT] WebAppDown: Web application is down" within 3 minutes
    And the description of the ticket in project "DEV" for "WebAppDown" contains "*Runbook:* https://wiki.techcorp.invalid/runbooks/web-app-down" within 3 minutes
    When the service "web-app" is started again
    Then the text of the resolved slack notification to "dev-critical" of "WebAppDown" contains "[RESOLVED] WebAppDown" within 7 minutes

  Scenario: an alert pushed with no end keeps its start, and resolve_timeout (5 minutes) resolves it
    When the alert "DiskFull" is pushed to Alertmanager with labels severity=warning, team=operations, instance=db-1, with annotations summary="disk full on db-1", with generator URL "http://prometheus.techcorp.invalid/graph", started 10 minutes ago, with no end
    Then "ops-team" gets a firing notification of "DiskFull" holding exactly these alerts within 2 minutes:
      | alertname | instance | status | annotations                 | startsAt    | endsAt | generatorURL                            |
      | DiskFull  | db-1     | firing | summary="disk full on db-1" | -10 minutes | none   | http://prometheus.techcorp.invalid/graph |
    And the subject of the email notification to "ops-team" of "DiskFull" is "[OPS] DiskFull" within 2 minutes
    And "ops-team" gets a resolved notification of "DiskFull" holding exactly these alerts within 12 minutes:
      | alertname | instance | status   | startsAt    | endsAt     |
      | DiskFull  | db-1     | resolved | -10 minutes | +5 minutes |

  Scenario: an alert pushed to end in 3 minutes resolves by itself then
    When the alert "QueueBacklog" is pushed to Alertmanager with labels severity=info, instance=q-1, started 2 minutes ago, ending in 3 minutes
    Then "default-receiver" gets a resolved notification of "QueueBacklog" holding exactly these alerts within 10 minutes:
      | alertname    | instance | status   | startsAt   | endsAt     |
      | QueueBacklog | q-1      | resolved | -2 minutes | +3 minutes |

  Scenario: one alert of a group resolves while the other fires: the group's next notification carries both
    When the alert "QueueBacklog" is pushed to Alertmanager with labels severity=info, instance=q-1
    And the alert "QueueBacklog" is pushed to Alertmanager with labels severity=info, instance=q-2
    Then "default-receiver" gets a firing notification of "QueueBacklog" holding exactly these alerts within 2 minutes:
      | alertname    | instance | status |
      | QueueBacklog | q-1      | firing |
      | QueueBacklog | q-2      | firing |
    And the subject of the email notification to "default-receiver" of "QueueBacklog" is "[TECHCORP] QueueBacklog" within 2 minutes
    When the alert "QueueBacklog" is resolved in Alertmanager with labels severity=info, instance=q-2
    Then "default-receiver" gets a firing notification of "QueueBacklog" holding exactly these alerts within 7 minutes:
      | alertname    | instance | status   |
      | QueueBacklog | q-1      | firing   |
      | QueueBacklog | q-2      | resolved |
    # The e-mail does not send resolved alerts (send_resolved: false), and q-1 was already sent.
    And "default-receiver" is never notified via email of "QueueBacklog" within 7 minutes

  Scenario: an inhibited warning is never sent as firing, and is once its critical resolves
    # The warning first: its group waits 30 seconds, long before which the critical arrives.
    When the alert "APIHighErrorRate" is pushed to Alertmanager with labels severity=warning, team=development, tier=backend, service=api-service, instance=api-service:5000
    And the alert "APIHighErrorRate" is pushed to Alertmanager with labels severity=critical, team=development, tier=backend, service=api-service, instance=api-service:5000
    Then "dev-backend" is never notified of "APIHighErrorRate" with labels severity=warning as firing within 3 minutes
    And "dev-critical" is notified via webhook[1] of "APIHighErrorRate" with labels severity=critical as firing exactly once within 3 minutes
    And "APIHighErrorRate" with labels severity=warning is inhibited within 1 minute
    When the alert "APIHighErrorRate" is resolved in Alertmanager with labels severity=critical, team=development, tier=backend, service=api-service, instance=api-service:5000
    Then "dev-backend" is notified of "APIHighErrorRate" with labels severity=warning as firing at least once within 7 minutes
    And "dev-critical" is notified of "APIHighErrorRate" with labels severity=critical as resolved exactly once within 7 minutes

  Scenario: dev-critical's ticket webhook (webhook[1]) fails; its escalation webhook (webhook[0]) still gets the page
    When the webhook[1] integration of "dev-critical" fails with http 500
    And the service "api-service" is stopped
    Then "dev-critical" is notified via webhook[0] of "APIDown" within 3 minutes
    And the common annotations of the webhook[0] notification to "dev-critical" of "APIDown" contain "runbook_url: https://wiki.techcorp.invalid/runbooks/api-down" within 3 minutes
    And "dev-critical" is never notified via webhook[1] of "APIDown" within 3 minutes
    And no ticket is opened for "APIDown" within 3 minutes
