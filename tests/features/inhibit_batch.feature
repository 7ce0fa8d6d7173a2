Feature: An inhibited alert is never sent as firing, yet comes resolved in its inhibitor's batch
  Alertmanager's own acceptance test for inhibition, in alertdrill's words, on a one-peer stack
  (tests/data/inhibit-batch) whose one route groups by team: ServiceDown hides ServiceSlow of
  the same team, and both are in one group. While ServiceDown fires, the group's notifications
  never carry ServiceSlow; once both resolved, the resolved notification carries both.

  Background:
    Given the stack "../data/inhibit-batch" is running

  Scenario: the inhibited alert comes only in the resolved batch
    When the alert "ServiceDown" is pushed to Alertmanager with labels team=ops
    And the alert "ServiceSlow" is pushed to Alertmanager with labels team=ops
    Then "ops" gets a firing notification via webhook of "ServiceDown" holding exactly these alerts within 2 minutes:
      | alertname   | team | status |
      | ServiceDown | ops  | firing |
    And "ops" is never notified via webhook of "ServiceSlow" as firing within 3 minutes
    # The hidden alert resolves first: while ServiceDown fires it stays hidden, resolved or not.
    When the alert "ServiceSlow" is resolved in Alertmanager with labels team=ops
    And the alert "ServiceDown" is resolved in Alertmanager with labels team=ops
    Then "ops" gets a resolved notification via webhook of "ServiceDown" holding exactly these alerts within 3 minutes:
      | alertname   | team | status   |
      | ServiceDown | ops  | resolved |
      | ServiceSlow | ops  | resolved |
    And "ops" is never notified via webhook of "ServiceSlow" as firing within 3 minutes
