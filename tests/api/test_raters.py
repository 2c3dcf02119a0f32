"""A rater works through the queue, through the real app over the evaluated warehouse: the
caller's unrated final evaluations oldest first (filters by model and stock), what the model said
beside each, and the counts of the evaluation dashboard (rated today, left, by model)."""

from tests.api.conftest import account, bearer, sql

QUEUE = "/api/evaluations/queue"
RATING = {"quality": 4, "usefulness": 3, "overall": 4, "reason": "clear"}


async def test_a_rater_works_through_the_queue(client, api_warehouse, evaluated):
    rater, other = await account(client, api_warehouse), await account(client, api_warehouse)
    filters = {"model": "baseline", "stock": "005930", "page_size": 100}
    [(finals,)] = sql(api_warehouse, "SELECT count(*) FROM marts.prediction_outcomes WHERE status = 'final' "
                                     "AND model_name = 'baseline' AND stock_code = '005930'")
    [(all_finals,)] = sql(api_warehouse, "SELECT count(*) FROM marts.prediction_outcomes WHERE status = 'final'")
    queue = (await client.get(QUEUE, params=filters, headers=bearer(rater.token))).json()
    assert queue["total"] == finals > 2
    items = queue["items"]
    assert [i["made_at"] for i in items] == sorted(i["made_at"] for i in items)  # oldest first
    assert {(i["model"], i["stock_code"], i["status"]) for i in items} == {("baseline", "005930", "final")}
    [(summary,)] = sql(api_warehouse, "SELECT summary FROM computed.stock_reports WHERE 'report:' || report_id = %s",
                       (items[0]["id"],))
    assert items[0]["source_kind"] == "stock_report" and items[0]["source"] == {"text": summary, "title": None}

    before = (await client.get("/api/evaluations/progress", headers=bearer(rater.token))).json()
    assert before["rated_today"] == 0 and before["left"] == all_finals
    for item in items[:2]:
        rated = await client.post(f"/api/evaluations/{item['id']}/rating", json=RATING, headers=bearer(rater.token))
        assert rated.status_code == 200, rated.text
    after = (await client.get(QUEUE, params=filters, headers=bearer(rater.token))).json()
    assert after["total"] == finals - 2 and after["items"][0]["id"] == items[2]["id"]
    progress = (await client.get("/api/evaluations/progress", headers=bearer(rater.token))).json()
    assert progress["rated_today"] == 2 and progress["left"] == all_finals - 2
    baseline = next(m for m in progress["by_model"] if m["model"] == "baseline")
    assert baseline["rated"] == baseline["rated_today"] == 2
    assert {m["model"] for m in progress["by_model"]} >= {"baseline", "rival"}
    # another rater's queue is their own
    theirs = (await client.get(QUEUE, params=filters, headers=bearer(other.token))).json()
    assert theirs["total"] == finals

    # the ratings sit beside the automatic scores, which they leave as they were
    detail = (await client.get(f"/api/evaluations/{items[0]['id']}", headers=bearer(rater.token))).json()
    assert detail["human"]["n"] == 1 and detail["human"]["overall"] == 4.0
    [(hit,)] = sql(api_warehouse, "SELECT hit FROM computed.prediction_scores WHERE evaluation_id = %s",
                   (items[0]["id"],))
    assert detail["scores"]["hit"] == hit and detail["evaluation"]["source"]["text"] == summary


async def test_evaluation_lists_carry_the_text_and_the_queue_filters(client, user, api_warehouse,
                                                                      evaluated):
    listed = (await client.get("/api/evaluations", params={"model": "rival", "page_size": 5},
                               headers=bearer(user.token))).json()
    assert listed["items"] and all(i["source_kind"] == "stock_report" and i["source"]["text"]
                                   for i in listed["items"])
    rival = (await client.get(QUEUE, params={"model": "rival", "stock": "000660"}, headers=bearer(user.token))).json()
    assert rival["total"] > 0 and {(i["model"], i["stock_code"]) for i in rival["items"]} == {("rival", "000660")}
    assert (await client.get(QUEUE, params={"stock": "00593"}, headers=bearer(user.token))).status_code == 400
    assert (await client.get(QUEUE)).status_code == 401
