"""The grid domain: rules, the incident life cycle, routing, deadlines. Pure Python + shapely, no I/O."""
