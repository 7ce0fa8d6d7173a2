"""Root conftest of the repository.

The engine's pytest plugin (``alertdrill.plugin``, registered through the package's ``pytest11``
entry point) adds the options and loads the bundled step vocabulary (steps/, installed as
``alertdrill.steps``) and the suite fixtures (fixtures/, installed as ``alertdrill.fixtures``)
for every feature, in this repository or in a team's own directory. Nothing is loaded here, so
that no step is registered twice.
"""
