// Placeholder until the fake cluster and the webhook sink land.
