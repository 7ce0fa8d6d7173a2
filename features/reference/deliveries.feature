Feature: Every receiver's integrations: who hears of a page, and who hears that it resolved
  `send_resolved` is set per integration, and Alertmanager's defaults differ by kind (off for
  e-mail and Slack, on for PagerDuty and webhooks), so "the team hears that it resolved" is a
  property of each integration of each receiver — seed 001 sets it on the Slack channels of the
  paging receivers only. One alert per rule (all but NodeDown, whose inhibit rule would hide
  every other alert on the host) plus one pushed alert per receiver that no rule reaches, then
  every one resolved: the two tables name, for every receiver, exactly the integrations that
  deliver. A flipped send_resolved, a swapped receiver, a group_wait or group_interval
  stretched past the window fails the one row that differs.

  Scenario: the firing and the resolved notifications of every receiver, integration by integration
    Given the stack "reference" is running
    And it is Tuesday 10:00 in America/Sao_Paulo
    When every alerting rule's alert but "NodeDown" is pushed to Alertmanager
    And the alert "DrillCritical" is pushed to Alertmanager with labels severity=critical
    And the alert "DrillDevelopment" is pushed to Alertmanager with labels severity=warning, team=development
    And the alert "DrillOperations" is pushed to Alertmanager with labels severity=warning, team=operations
    And the alert "DrillDBA" is pushed to Alertmanager with labels severity=warning, team=dba
    And the alert "DrillDBAAvailability" is pushed to Alertmanager with labels severity=warning, team=dba, category=availability
    And the alert "DrillInfo" is pushed to Alertmanager with labels severity=info, team=dba
    And the alert "DrillEscalated" is pushed to Alertmanager with labels severity=critical, escalation=level-2
    And the alert "DrillEscalated" is pushed to Alertmanager with labels severity=critical, escalation=level-3
    And the alert "DrillEscalated" is pushed to Alertmanager with labels severity=critical, escalation=executive
    And the alert "DrillDefault" is pushed to Alertmanager with labels severity=none
    Then the firing notifications go through exactly these integrations within 3 minutes:
      | receiver             | integrations                                |
      | default-receiver     | email                                       |
      | critical-alerts      | email, slack, pagerduty                     |
      | dev-team             | email, slack                                |
      | dev-critical         | email, slack, webhook[0], webhook[1]        |
      | dev-frontend         | slack                                       |
      | dev-backend          | slack, webhook                              |
      | ops-team             | email, slack                                |
      | ops-critical         | email, slack, pagerduty, webhook[0], webhook[1] |
      | ops-infrastructure   | slack                                       |
      | ops-performance      | slack                                       |
      | dba-team             | email, slack                                |
      | dba-critical         | email, slack, pagerduty, webhook[0], webhook[1] |
      | dba-availability     | slack                                       |
      | dba-performance      | slack                                       |
      | cartorio-oncall      | slack                                       |
      | escalation-level-2   | slack, pagerduty                            |
      | escalation-level-3   | email, slack                                |
      | executive-escalation | email, slack, pagerduty                     |
      | info-review          | slack                                       |
    # The two inhibit rules that can apply here (NodeDown's is left out with its alert): a
    # critical hides the warning of the same alert, instance and service; PostgreSQLDown hides
    # the API's connection-pool alert on the same database. Nothing else may be hidden.
    And exactly these alerts are inhibited within 3 minutes:
      | alert                        | severity |
      | APIHighErrorRate             | warning  |
      | APIDBConnectionPoolExhausted | critical |
    When every pushed alert is resolved in Alertmanager
    # E-mail never says "resolved" here (Alertmanager's default for e-mail is off, and no
    # receiver turns it on); Slack does where seed 001 set send_resolved: true; PagerDuty and
    # webhooks do by Alertmanager's default.
    Then the resolved notifications go through exactly these integrations within 6 minutes:
      | receiver             | integrations                                |
      | default-receiver     | none                                        |
      | critical-alerts      | slack, pagerduty                            |
      | dev-team             | slack                                       |
      | dev-critical         | slack, webhook[0], webhook[1]               |
      | dev-frontend         | slack                                       |
      | dev-backend          | slack, webhook                              |
      | ops-team             | none                                        |
      | ops-critical         | slack, pagerduty, webhook[0], webhook[1]    |
      | ops-infrastructure   | none                                        |
      | ops-performance      | none                                        |
      | dba-team             | none                                        |
      | dba-critical         | slack, pagerduty, webhook[0], webhook[1]    |
      | dba-availability     | none                                        |
      | dba-performance      | none                                        |
      | cartorio-oncall      | slack                                       |
      | escalation-level-2   | slack, pagerduty                            |
      | escalation-level-3   | slack                                       |
      | executive-escalation | pagerduty                                   |
      | info-review          | none                                        |
