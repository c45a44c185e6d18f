"""Once per recipient, the hot path: ``pipeline.prepare`` validates and builds the token context,
``pipeline.render_prepared`` renders the compiled templates; ``sanitize``, ``headers``, ``tidy``
and ``failure`` are its helpers. No MJML, no inlining, no I/O but the recommendation source.
"""
