Feature: TechCorp infrastructure: a full disk pages operations, a dead node hides its services
  node-exporter watches a small filesystem the harness mounts for the stack (32 MiB tmpfs);
  filling it writes a real file. Every target of the stack carries host=techcorp-node-1, which
  is what the NodeDown inhibition compares (the seed compared `instance`, which never matched).

  Background:
    Given the stack "reference" is running

  Scenario: a full disk pages ops-critical, with a PagerDuty event, and resolves when freed
    When the disk of "node-exporter" is filled to 95 %
    Then the alert "DiskSpaceLow" fires within 7 minutes
    And "ops-critical" is notified via pagerduty of "DiskSpaceLow" within 8 minutes
    And only "ops-critical" is notified of "DiskSpaceLow" within 8 minutes
    And a ticket is opened in project "OPS" for "DiskSpaceLow" within 8 minutes
    When the disk of "node-exporter" is freed
    Then the alert "DiskSpaceLow" resolves within 2 minutes
    And "ops-critical" is notified that "DiskSpaceLow" resolved within 7 minutes

  @docker-subset
  Scenario: NodeDown inhibits the alerts of every service on its host until the node is back
    When the service "node-exporter" is stopped
    Then "ops-critical" is notified of "NodeDown" within 3 minutes
    When the service "web-app" is stopped
    Then "WebAppDown" is inhibited within 3 minutes
    And "dev-critical" is never notified of "WebAppDown" within 3 minutes
    When the service "node-exporter" is started again
    Then "dev-critical" is notified of "WebAppDown" within 7 minutes
    When the service "web-app" is started again
    Then "dev-critical" is notified that "WebAppDown" resolved within 7 minutes
