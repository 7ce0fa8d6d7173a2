"""Root conftest: load the bundled step vocabulary for every feature in this repository.

The engine's pytest plugin (options, fixtures, hooks) is registered by the package's
``pytest11`` entry point; the steps live in steps/ and are shared by every feature.
"""

pytest_plugins = [
    "fixtures.stacks",
    "steps.stack_steps",
    "steps.fault_steps",
    "steps.alert_steps",
    "steps.notification_steps",
]
