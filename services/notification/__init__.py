"""notification: owns subscriptions, outbound webhook deliveries, emails and the delivery log."""
