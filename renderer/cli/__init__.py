"""The ``renderer`` command: ``main`` parses, calls the library and turns errors into exit codes;
``args`` holds the options several commands share; ``preview``, ``screenshot`` and ``dask`` wire
those commands to their modules.
"""
