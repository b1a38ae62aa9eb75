// Placeholder until the lead writes this target.
