"""Operator tools: the ``secret-chain`` command line and what it runs (preflight, inventory, plan, rotation, the offline evaluator).

The library (every module of ``components`` outside this package) never imports from here.
"""
