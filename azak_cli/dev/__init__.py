"""Developer tools: the synthetic whole-market data generator behind `azak dev generate`."""
