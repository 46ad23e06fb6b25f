"""PackDesk hub: the central order API (intake, routing, state machine, change feed)."""
