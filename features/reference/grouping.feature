Feature: Each team's route groups by its own labels: two instances are two notifications
  Seed 001 groups the development team's warnings by alert, service and instance, the
  operations team's by alert and instance, the DBAs' by alert and service. Alerts that differ
  in one of those labels are separate groups, each notified on its own; a group_by that lost
  the label would merge them into one notification — one page where the on-call expected two.
  (The team routes wait 30 s before a group's first notification, so both alerts are pushed
  before either is sent.)

  Scenario Outline: two <team> warnings that differ only in <label> are two notifications to <receiver>
    Given the stack "reference" is running
    When the alert "DrillGrouped" is pushed to Alertmanager with labels severity=warning, team=<team>, <label>=first
    And the alert "DrillGrouped" is pushed to Alertmanager with labels severity=warning, team=<team>, <label>=second
    Then "<receiver>" is notified of "DrillGrouped" exactly twice within 2 minutes

    Examples:
      | team        | label    | receiver |
      | development | instance | dev-team |
      | operations  | instance | ops-team |
      | dba         | service  | dba-team |
