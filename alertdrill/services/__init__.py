"""The seed's own services, as real processes: the escalation service and the ticket service."""
