Feature: Every line of the notification templates reaches its reader
  messages.feature checks what a page says: its subject, its runbook link, its summary. These
  scenarios check the rest of techcorp.tmpl line by line — the team templates (slack.team,
  email.team.html), the critical ones' alert lines and headings, the default e-mail's
  description — so that a template line dropped by mistake is a failed claim, not a quieter
  message nobody notices (mutate's template-line-dropped). Alerts are pushed: what is checked
  is the template, not a rule. (An HTML e-mail's body is checked as the text a reader sees: its
  tags are not part of it.)

  Background:
    Given the stack "reference" is running

  Scenario: a development warning's Slack text and e-mail carry the group's title and each alert's line
    When the alert "QueueBacklog" is pushed to Alertmanager with labels severity=warning, team=development, service=queue, instance=q-1, with annotations summary="backlog on q-1"
    Then the text of the slack notification to "dev-team" of "QueueBacklog" contains "[FIRING:1] QueueBacklog" within 2 minutes
    And the text of the slack notification to "dev-team" of "QueueBacklog" contains "• QueueBacklog [warning] backlog on q-1" within 2 minutes
    And the body of the email notification to "dev-team" of "QueueBacklog" contains "[FIRING:1] QueueBacklog" within 2 minutes
    And the body of the email notification to "dev-team" of "QueueBacklog" contains "QueueBacklog [warning]: backlog on q-1" within 2 minutes

  Scenario: a critical alert's Slack text carries its line and summary, its e-mail the heading and description
    When the alert "QueueStuck" is pushed to Alertmanager with labels severity=critical, team=development, service=queue, instance=q-1, with annotations summary="nothing leaves q-1", description="no message consumed for 10 minutes"
    Then the text of the slack notification to "dev-critical" of "QueueStuck" contains "[FIRING:1] QueueStuck" within 2 minutes
    And the text of the slack notification to "dev-critical" of "QueueStuck" contains "• *QueueStuck* on q-1 (queue)" within 2 minutes
    And the text of the slack notification to "dev-critical" of "QueueStuck" contains "nothing leaves q-1" within 2 minutes
    And the body of the email notification to "dev-critical" of "QueueStuck" contains "[FIRING:1] QueueStuck" within 2 minutes
    And the body of the email notification to "dev-critical" of "QueueStuck" contains "QueueStuck on q-1: nothing leaves q-1" within 2 minutes
    And the body of the email notification to "dev-critical" of "QueueStuck" contains "no message consumed for 10 minutes" within 2 minutes

  Scenario: the default e-mail carries each alert's summary and description
    When the alert "QueueBacklog" is pushed to Alertmanager with labels severity=info, instance=q-1, with annotations summary="backlog on q-1", description="more than 1000 messages wait on q-1"
    Then the body of the email notification to "default-receiver" of "QueueBacklog" contains "Alert: backlog on q-1" within 2 minutes
    And the body of the email notification to "default-receiver" of "QueueBacklog" contains "Description: more than 1000 messages wait on q-1" within 2 minutes
