"""The four services of the publishing pipeline; none imports another."""
