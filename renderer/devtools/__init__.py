"""Tools for designers and CI around the engine: ``check`` (what breaks emails), ``gallery``,
``preview/`` (the live preview server), ``synthetic`` profiles, JSON ``schemas``, screenshots.
"""
