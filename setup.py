"""Compatibility shim for tools that still call ``setup.py``.

All packaging metadata (name, version, dependencies, extras, the ``sparklayer-erp`` script, package data)
lives in ``pyproject.toml``'s ``[project]`` and ``[tool.setuptools]`` tables.
"""

from setuptools import setup

setup()
