"""The sync engine: clients, planner, applier, store and the service layer the shells call."""
