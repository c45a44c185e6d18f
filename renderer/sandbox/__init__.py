"""The Jinja sandbox every template runs in: environments, the compile-time guard, joined
expression sets and the per-recipient filters (``money``, ``date``, ``utm``, ``underline``).
"""
