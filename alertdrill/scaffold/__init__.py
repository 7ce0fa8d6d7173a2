"""``alertdrill init``: a ready drill project from a team's own Prometheus/Alertmanager files.

The modules, in the order init uses them:

- :mod:`.discover` finds prometheus.yml, its rule files, alertmanager.yml and its templates
  (in a config directory, wherever they are) and validates them with promtool and amtool;
- :mod:`.stackcopy` copies them into ``DIR/stack`` and writes the ``alertdrill.yml`` manifest
  (a ``series`` stand-in for every static scrape target);
- :mod:`.expectations` computes what the config does today (where every rule's alert is
  routed, which inhibitions the rules can produce, how long each step may take);
- :mod:`.features` writes those expectations as Gherkin;
- :mod:`.update` compares a new computation with the one recorded in the project file;
- :mod:`.ci` writes the GitHub or GitLab workflow;
- :mod:`.project` ties them together (the ``init`` command and the project file).
"""

from __future__ import annotations

#: The project file init writes at the root of a drill project; ``alertdrill run`` without
#: arguments looks for it in the working directory.
PROJECT_FILE = "alertdrill-project.yml"
