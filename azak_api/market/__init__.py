"""The market as a frontend shows it: live quotes, valuation, the market overview."""
