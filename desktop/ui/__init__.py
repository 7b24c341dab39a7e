"""flypack."""
