"""The offline baseline models a registry row with provider ``baseline`` may name.

The pipelines compute them (``azak_pipelines.lib.predictions.baseline``, one variant per
identifier); the API and ``azak models add`` refuse any other identifier when a model is registered,
so a typo is caught then and not at the next prediction run.
"""

BASELINE_MODELS = {
    "azak-baseline-v1": "similar-news outcomes, the stock's news-impact history, momentum and RSI mean reversion",
    "azak-momentum-v1": "price only: momentum and RSI mean reversion, no news-derived component",
}


def baseline_model_problem(provider: str, model: str) -> str | None:
    """Why a registry row names a baseline that does not exist; None when the row is fine."""
    if provider != "baseline" or model in BASELINE_MODELS:
        return None
    return (f"there is no offline baseline model {model!r}: provider baseline offers "
            f"{', '.join(BASELINE_MODELS)}")
