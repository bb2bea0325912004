"""The question graph's nodes: small functions that return only the keys they change."""
