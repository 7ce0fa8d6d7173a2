"""Steps that change the stack's configuration mid-scenario, as a deploy would."""

from __future__ import annotations

from pytest_bdd import when

from alertdrill.engine.drill import Drill

from .patterns import quoted, rx


@when(rx(rf"the stack's alertmanager\.yml is replaced by {quoted('config_file')}"))
def alertmanager_config_replaced(drill: Drill, config_file: str) -> None:
    """Replace alertmanager.yml mid-scenario and reload every peer; an action.

    The file is in the stack directory, scaled and instrumented as at start; the step passes
    when each peer's metrics say it took it (reload successful, config hash changed).

    Example: When the stack's alertmanager.yml is replaced by "changes/alertmanager-paging.yml"
    """
    drill.replace_alertmanager_config(config_file)


@when(rx(rf"the rule file {quoted('rule_file')} is replaced by {quoted('config_file')}"))
def rule_file_replaced(drill: Drill, rule_file: str, config_file: str) -> None:
    """Replace one rule file mid-scenario and reload Prometheus; an action.

    Paths are in the stack directory; scaled as at start. Returns once Prometheus runs the
    new rules and lists its Alertmanagers again (its notifier's discovery restarts with the
    reload: about 5 s measured, not scaled).

    Example: When the rule file "rules/availability.yml" is replaced by "changes/availability-slow.yml"
    """
    drill.replace_rule_file(rule_file, config_file)
