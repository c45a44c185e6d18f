"""Once per template: ``pipeline.compile_template`` runs the stages in order
(assemble, protect, mjml, inline, restore, text); nothing here runs per recipient.
"""
