"""Root conftest of the repository.

The engine's pytest plugin (``alertdrill.plugin``, registered through the package's ``pytest11``
entry point) adds the options and loads the bundled step vocabulary (steps/) and the suite
fixtures (fixtures/) for every feature, in this repository or in a team's own directory.
"""
