"""pytest plugin for intent tests (registered through the ``pytest11`` entry point).

It must import cheaply: nothing from netpol_dsl is imported until a test uses it.
"""
