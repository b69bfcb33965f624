"""The Avalanche plug-in: Avalanche (avalanche-lib) strategies on forgetbench scenarios.

``engine`` registers the ``avalanche:*`` strategy names and imports nothing from
avalanche-lib; ``data``, ``model`` and ``template`` (the bridge) do, and are imported only
when an ``avalanche:*`` strategy trains. The engine reaches the bridge only through the
strategy contract's ``trainer()``.
"""
