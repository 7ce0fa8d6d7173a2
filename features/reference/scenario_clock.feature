Feature: Actions at a scenario time: an alert that joins a group between two of its ticks
  The operations routes group by alertname and instance, wait 30 s and flush every 5 minutes
  (group_interval, inherited from the root). An alert pushed at t=0 opens the group and is
  notified at 30 s; a second alert of the same group pushed at 2 minutes lands between the
  first flush and the next tick (5 min 30 s), so it waits for that tick: 3 min 30 s after it
  was pushed, and not before. The scenario clock counts from the moment the stack was usable.

  Scenario: an alert joining a flushed group waits for the group's next tick
    Given the stack "reference" is running
    When the alert "DiskWillFillIn4Hours" is pushed to Alertmanager with labels severity=warning, team=operations, category=resource, instance=node-exporter:9100, mountpoint=/data
    Then "ops-infrastructure" is notified of "DiskWillFillIn4Hours" with labels mountpoint=/data within 1 minute
    When the scenario clock reaches 2 minutes
    And the alert "DiskWillFillIn4Hours" is pushed to Alertmanager with labels severity=warning, team=operations, category=resource, instance=node-exporter:9100, mountpoint=/logs
    Then "ops-infrastructure" is notified of "DiskWillFillIn4Hours" with labels mountpoint=/logs between 3 and 4 minutes

  Scenario: the same placement by a wait: 2 minutes after the first push
    Given the stack "reference" is running
    When the alert "DiskWillFillIn4Hours" is pushed to Alertmanager with labels severity=warning, team=operations, category=resource, instance=node-exporter:9100, mountpoint=/data
    And 2 minutes pass
    And the alert "DiskWillFillIn4Hours" is pushed to Alertmanager with labels severity=warning, team=operations, category=resource, instance=node-exporter:9100, mountpoint=/logs
    Then "ops-infrastructure" is notified of "DiskWillFillIn4Hours" with labels mountpoint=/logs between 3 and 4 minutes

  Scenario: the same placement in one step: at 2 minutes, the second alert joins the group
    Given the stack "reference" is running
    When the alert "DiskWillFillIn4Hours" is pushed to Alertmanager with labels severity=warning, team=operations, category=resource, instance=node-exporter:9100, mountpoint=/data
    And at 2 minutes, the alert "DiskWillFillIn4Hours" is pushed to Alertmanager with labels severity=warning, team=operations, category=resource, instance=node-exporter:9100, mountpoint=/logs
    Then "ops-infrastructure" is notified of "DiskWillFillIn4Hours" with labels mountpoint=/logs between 3 and 4 minutes
