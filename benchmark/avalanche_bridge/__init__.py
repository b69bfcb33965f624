"""Run Avalanche (avalanche-lib) strategies on forgetbench scenarios.

Importing this package imports avalanche (the ``[avalanche]`` extra); nothing in the
core imports it: ``strategies/avalanche_engine.py`` imports it only when an
``avalanche:*`` strategy is built.
"""
