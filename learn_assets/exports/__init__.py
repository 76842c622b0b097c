"""Exports for people: per-snapshot CSV, Parquet, an Excel workbook, PNG charts and an HTML page.

Kept free of imports so `learn_assets.resources` can import the resource without a cycle.
"""
