Feature: The reference rules' own unit tests: thresholds, for: and labels, to the decimal
  A real fault moves a metric far past its threshold; whether 2.9 % errors stay quiet and 3.1 %
  page, whether a blip shorter than `for:` pages, and which severity and team an alert carries,
  are pinned by promtool's simulated series (stack/reference/prometheus/tests, one file per rule
  file). Run here, they are part of the suite `alertdrill mutate` scores and of the drill
  report; no process of the stack starts for them. What promtool cannot see — scrapes, routing,
  inhibition, delivery by a real cluster — is what the other features prove.

  Scenario: every rule file's promtool unit tests pass
    Then the rule unit tests of the stack "reference" pass
