"""Run every benchmark: `make bench` (or `python -m benchmarks [name ...]`)."""

import importlib
import sys

ALL = ["import_prices", "backfill", "news", "linker", "embeddings", "api", "similar", "stock_page", "news_search",
       "predictions", "retention", "stack", "dbt_metadata"]

if __name__ == "__main__":
    for name in sys.argv[1:] or ALL:
        importlib.import_module(f"benchmarks.{name}").main(*([] if name != "backfill" else [False]))
