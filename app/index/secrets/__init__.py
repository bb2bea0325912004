"""Secret masking: credentials are found and masked in place before anything indexes them."""
