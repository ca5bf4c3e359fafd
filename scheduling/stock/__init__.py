"""Controlled-substance stock: products, lots per location, and their append-only ledger."""
