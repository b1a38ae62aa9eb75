// Placeholder until the quota plugin lands.
