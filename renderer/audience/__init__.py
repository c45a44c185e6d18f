"""Who a recipient is: derived features, segment rules, personas and trigger rules;
``report`` counts segments over a whole audience, ``fit/`` (the ml extra) fits personas offline.
"""
