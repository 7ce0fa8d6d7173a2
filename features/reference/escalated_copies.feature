Feature: Escalated copies reach their level's receiver, and only it
  The escalation service re-posts an unresolved critical alert with escalation=level-2,
  level-3 or executive (escalation.feature runs the whole schedule, 30 minutes of it). Where
  each copy goes is the routing tree's part, checked here at once: one copy per scenario, one
  receiver each — a receiver swapped or a matcher misspelt under the escalation route sends a
  copy to the wrong level, or to nobody.

  Scenario Outline: a copy escalated to <level> reaches only <receiver>
    Given the stack "reference" is running
    When the alert "DrillEscalated" is pushed to Alertmanager with labels severity=critical, team=development, escalation=<level>
    Then only "<receiver>" is notified of "DrillEscalated" within 1 minute

    Examples:
      | level     | receiver             |
      | level-2   | escalation-level-2   |
      | level-3   | escalation-level-3   |
      | executive | executive-escalation |

  # Seed 001's immediate escalation is for any team's critical alert: the team's critical
  # receiver (it continues) and the executives both hear of it.
  Scenario Outline: an immediate critical alert of <team> pages <receiver> and the executives
    Given the stack "reference" is running
    When the alert "DrillImmediate" is pushed to Alertmanager with labels severity=critical, team=<team>, escalation=immediate
    Then only "<receiver>" and "executive-escalation" are notified of "DrillImmediate" within 1 minute

    Examples:
      | team        | receiver        |
      | development | dev-critical    |
      | operations  | ops-critical    |
      | dba         | dba-critical    |
      | cartorio    | cartorio-oncall |
