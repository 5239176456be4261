"""What staff take away: exports for analysts, the publishable report, QR posters and live counts."""
