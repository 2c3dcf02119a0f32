"""A news_predictions run narrowed to one article (config ``news_ids``, what the API's on-demand
prediction launches) predicts that article's links only."""

import psycopg

from tests.pipelines.predictions.conftest import ARTICLE_ID
from tests.pipelines.runs import materialization, run

DAY = ("2025-02-12", "2025-02-12")  # two salient links: ARTICLE_ID and ARTICLE_ID + 1


def test_a_run_narrowed_to_one_article_predicts_only_it(predictions_warehouse):
    config = {"ops": {"computed__news_predictions": {"config": {"news_ids": [ARTICLE_ID]}}}}
    meta = materialization(run("news_predictions_job", DAY, run_config=config), "computed/news_predictions")
    assert meta["links"] == 1 and meta["attempts"] == 2  # the two offline baselines
    with psycopg.connect(predictions_warehouse) as conn:
        found = conn.execute("SELECT DISTINCT news_id FROM computed.news_predictions").fetchall()
    assert found == [(ARTICLE_ID,)]
    rest = materialization(run("news_predictions_job", DAY), "computed/news_predictions")
    assert rest["links"] == 2 and rest["already_answered"] == 2 and rest["attempts"] == 2  # the other article
