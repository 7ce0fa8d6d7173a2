Feature: Maintenance-labelled alerts: where the corrected tree sends them, and where seed 001's sends them
  The maintenance route waits an hour before notifying (group_wait 1h), so these scenarios ask
  Alertmanager for its routing decision (the receivers its API lists for the alert), which it
  makes the moment the alert arrives. Seed 001 put the maintenance route last, after team routes
  without `continue`: every rule of the seed carries a team, so a team route always wins and the
  maintenance receiver is never reached (SEED-FINDINGS A3). The reference stack moves it first.

  Scenario: the reference tree sends a maintenance-labelled alert to the maintenance receiver only
    Given the stack "reference" is running
    When the alert "DiskWillFillIn4Hours" is pushed to Alertmanager with labels severity=warning, team=operations, category=resource, maintenance=true, instance=node-exporter:9100
    Then Alertmanager routes "DiskWillFillIn4Hours" to only "maintenance-receiver" within 1 minute
    And "ops-infrastructure" is never notified of "DiskWillFillIn4Hours" within 3 minutes

  Scenario: seed 001's own tree never reaches the maintenance receiver for a team's alert
    Given the stack "seed-001-routing" is running
    When the alert "DiskWillFillIn4Hours" is pushed to Alertmanager with labels severity=warning, team=operations, category=resource, maintenance=true, instance=node-exporter:9100
    Then Alertmanager routes "DiskWillFillIn4Hours" to only "ops-infrastructure" within 1 minute
    And "ops-infrastructure" is notified of "DiskWillFillIn4Hours" within 2 minutes
