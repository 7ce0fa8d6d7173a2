Feature: Info alerts wait for business hours, as the on-call guide (seed 002) says
  Info alerts are "reviewed on the next business day": the reference tree sends them to
  #alerts-info only Monday to Friday, 09:00–18:00 in São Paulo (active_time_intervals). Time
  intervals run on the wall clock, which no time scale compresses, so "Given it is …" rewrites
  them for the run: the real clock now falls where that moment falls, and from there they run
  in real time (README › Time scaling says what that cannot model).

  Scenario: an info alert on a Saturday morning is held, though routed to the review channel
    Given the stack "reference" is running
    And it is Saturday 10:00 in America/Sao_Paulo
    When the alert "SlowQueriesTrend" is pushed to Alertmanager with labels severity=info, team=dba, service=postgresql
    Then Alertmanager routes "SlowQueriesTrend" to only "info-review" within 1 minute
    And "info-review" is never notified of "SlowQueriesTrend" within 10 minutes

  Scenario: an info alert on a Tuesday morning reaches the review channel
    Given the stack "reference" is running
    And it is Tuesday 09:30 in America/Sao_Paulo
    When the alert "SlowQueriesTrend" is pushed to Alertmanager with labels severity=info, team=dba, service=postgresql
    Then "info-review" is notified via slack of "SlowQueriesTrend" within 2 minutes

  # The window's last hour: an interval shifted an hour earlier (08:00–17:00) would hold this
  # alert until Monday.
  Scenario: an info alert on a Friday at 17:30 still reaches the review channel
    Given the stack "reference" is running
    And it is Friday 17:30 in America/Sao_Paulo
    When the alert "SlowQueriesTrend" is pushed to Alertmanager with labels severity=info, team=dba, service=postgresql
    Then "info-review" is notified via slack of "SlowQueriesTrend" within 2 minutes
