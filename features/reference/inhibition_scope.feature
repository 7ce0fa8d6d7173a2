Feature: An inhibit rule hides its targets only while its own source fires
  routing_table.feature and deliveries.feature check what is hidden while NodeDown or
  PostgreSQLDown fires. This checks the other half: with both of them absent, the API's
  connection-pool alert — which shares the `database` label with every other alert of the API
  — must not be hidden. An inhibit rule whose source matcher were flipped or widened
  (PostgreSQLDown → "anything but PostgreSQLDown") would hide it behind APIDown, on the same
  database: a page lost exactly when the API is in trouble.

  Scenario: without NodeDown and PostgreSQLDown only the warning under its own critical is hidden
    Given the stack "reference" is running
    When every alerting rule's alert but "NodeDown" and "PostgreSQLDown" is pushed to Alertmanager
    Then exactly these alerts are inhibited within 3 minutes:
      | alert            | severity |
      | APIHighErrorRate | warning  |

  Scenario: a critical hides the warning of its own service only, on the same instance
    Given the stack "reference" is running
    When the alert "DiskFull" is pushed to Alertmanager with labels severity=critical, team=operations, instance=db-1, service=postgresql
    And the alert "DiskFull" is pushed to Alertmanager with labels severity=warning, team=operations, instance=db-1, service=postgresql
    And the alert "DiskFull" is pushed to Alertmanager with labels severity=warning, team=operations, instance=db-1, service=backup
    Then exactly these alerts are inhibited within 2 minutes:
      | alert    | severity | service    |
      | DiskFull | warning  | postgresql |
    And "ops-team" is notified of "DiskFull" with labels service=backup within 2 minutes
