"""Helpers for tools/gen_fixtures.py: the nnconf/1 fixture generator."""
