Feature: Where every alerting rule's alert goes: the routing table of the reference stack
  One alert per alerting rule is pushed, labelled as Prometheus would label it (the rule's own
  labels and its scrape target's), and Alertmanager must route each to exactly the receivers of
  the table — the spec of 001's corrected tree. A rule whose labels change, a route whose matcher
  is misspelt or whose receiver is swapped, or a new rule nobody added here fails this scenario,
  with a table of what differs. (Routing only: real failures of each alert are in the other
  features.)

  Scenario: every rule's alert reaches exactly its receivers
    Given the stack "reference" is running
    When every alerting rule's alert is pushed to Alertmanager
    Then Alertmanager routes them as follows within 1 minute:
      | alert                        | severity | receivers                          |
      | APIDown                      | critical | dev-critical                       |
      | APIHighErrorRate             | critical | dev-critical                       |
      | APIHighErrorRate             | warning  | dev-backend                        |
      | APISlowResponse              | warning  | dev-backend                        |
      | APIHighRequestRate           | warning  | dev-backend                        |
      | APIDBConnectionPoolExhausted | critical | dev-critical                       |
      | CertificadoProximoExpirar    | critical | cartorio-oncall                    |
      | LatenciaOCSPElevada          | warning  | cartorio-oncall                    |
      | PostgreSQLDown               | critical | dba-critical, executive-escalation |
      | PostgreSQLHighConnections    | warning  | dba-team                           |
      | PostgreSQLSlowQueries        | warning  | dba-performance                    |
      | PostgreSQLHighDiskUsage      | critical | dba-critical                       |
      | NodeDown                     | critical | ops-critical                       |
      | DiskSpaceLow                 | critical | ops-critical                       |
      | HighCPUUsage                 | warning  | ops-performance                    |
      | HighMemoryUsage              | warning  | ops-infrastructure                 |
      | CriticalLogDetected          | critical | dev-critical                       |
      | DatabaseConnectionErrors     | critical | dba-critical                       |
      | MultipleFailedLogins         | warning  | dev-backend                        |
      | PaymentProcessingErrors      | critical | dev-critical                       |
      | WebAppHighErrorRate          | critical | dev-critical                       |
      | WebAppHighResponseTime       | warning  | dev-frontend                       |
      | WebAppDown                   | critical | dev-critical, executive-escalation |
      | WebAppHighMemoryUsage        | warning  | dev-frontend                       |
    # NodeDown is pushed too, on the host every target of this stack runs on: its inhibit rule
    # (equal: host) hides every other alert, and only it.
    And exactly these alerts are inhibited within 1 minute:
      | alert                        |
      | APIDown                      |
      | APIHighErrorRate             |
      | APISlowResponse              |
      | APIHighRequestRate           |
      | APIDBConnectionPoolExhausted |
      | CertificadoProximoExpirar    |
      | LatenciaOCSPElevada          |
      | PostgreSQLDown               |
      | PostgreSQLHighConnections    |
      | PostgreSQLSlowQueries        |
      | PostgreSQLHighDiskUsage      |
      | DiskSpaceLow                 |
      | HighCPUUsage                 |
      | HighMemoryUsage              |
      | CriticalLogDetected          |
      | DatabaseConnectionErrors     |
      | MultipleFailedLogins         |
      | PaymentProcessingErrors      |
      | WebAppHighErrorRate          |
      | WebAppHighResponseTime       |
      | WebAppDown                   |
      | WebAppHighMemoryUsage        |
