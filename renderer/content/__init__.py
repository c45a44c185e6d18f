"""The files a designer edits: where they live (``layout``), loading templates, blocks and
brand (``loader``), translations (``locales``), fixtures, and JSON/YAML reading with line numbers.
"""
