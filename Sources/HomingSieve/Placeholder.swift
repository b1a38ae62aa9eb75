// Placeholder until the Sieve interpreter lands.
