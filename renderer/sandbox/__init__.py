"""The Jinja sandbox every template runs in: environments, the compile-time guard, the
work budget of each render and the bounded built-in filters, joined expression sets and
the per-recipient filters (``money``, ``date``, ``utm``, ``underline``).
"""
