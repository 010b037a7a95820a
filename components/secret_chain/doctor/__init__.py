"""``secret-chain doctor``: every link of a stack's running chain checked live (issue 22)."""
