"""The offline embedder: deterministic unit vectors, Korean-aware, and the bad inputs of issue 10."""

import json

import numpy as np
import pytest

from azak_core.embeddings import EmbedderSettings, EmbeddingError, prepare_text, select_embedder
from azak_core.embeddings.base import MAX_CHARS, unit_rows
from azak_core.embeddings.offline import DIMENSION, OfflineEmbedder, _slot, _sublinear, features
from azak_core.embeddings.quality import evaluate, evaluate_baseline, halves
from tests.conftest import PROJECT_ROOT

LABELLED = [PROJECT_ROOT / "tests/linker/labelled_news.jsonl",
            PROJECT_ROOT / "tests/embeddings/duplicate_stories.jsonl"]


def embed(*texts: str) -> np.ndarray:
    return OfflineEmbedder().embed(list(texts)).vectors


def test_vectors_are_float32_unit_and_the_same_on_every_run():
    first = embed("삼성전자, 2분기 영업이익 4조6천억원\n메모리 재고 조정", "SK하이닉스 HBM3E 양산")
    assert first.dtype == np.float32 and first.shape == (2, DIMENSION)
    assert np.allclose(np.linalg.norm(first, axis=1), 1.0, atol=1e-5)
    again = embed("삼성전자, 2분기 영업이익 4조6천억원\n메모리 재고 조정", "SK하이닉스 HBM3E 양산")
    assert np.array_equal(first, again)


def alone(text: str) -> np.ndarray:
    """A text's vector from :func:`features` (Kiwi on this thread, one text at a time), each feature
    added to its coordinate in float32 one after another: how the vectors were made before a batch
    went to Kiwi's threads."""
    title, _, body = text.partition("\n")
    row = np.zeros((1, DIMENSION), dtype=np.float32)
    for feature, weight in features(title, body).items():
        slot, sign = _slot(feature)
        row[0, slot] += sign * _sublinear(weight)
    return unit_rows(row)


def test_a_batch_gives_each_text_the_vector_it_gets_alone():
    # Kiwi's threads analyse a batch ahead of the features and must hand the analyses back in order:
    # a shifted or swapped analysis gives another text's vector. Bit for bit, as stored vectors are.
    texts = [prepare_text(item["title"], item.get("content", "")) for item in labelled_items()[:150]]
    texts += ["ㅋㅋㅋ", "\n본문만", "제목만\n", "Samsung Electronics 삼성전자 HBM3E 株価 上昇 🚀"]
    together = embed(*texts)
    assert np.array_equal(together, np.vstack([alone(text) for text in texts]))


def test_korean_morphemes_make_inflected_forms_meet():
    # particles differ, the nouns are the same: closer than a different company's news
    a, b, c = embed("삼성전자가 반도체 투자를 늘렸다", "삼성전자는 반도체 투자 확대", "현대차 인도 공장 증설")
    assert a @ b > 0.5 > a @ c
    assert "m:삼성전자" in features("삼성전자가 반도체", "") and "m:가" not in features("삼성전자가 반도체", "")


def test_names_make_the_ngrams_and_market_words_weigh_less():
    found = features("SK하이닉스가 목표가 상향", "")
    assert "c:<sk" in found and "c:하이닉" in found
    assert "c:스가" not in found and "c:가>" not in found  # particles make no n-grams
    assert found["m:상향"] < found["m:하이닉스"] / 5  # a market word against a proper noun
    # a company abbreviated still shares its name's n-grams
    full, short, other = embed("SK하이닉스 HBM 증설", "하이닉스 HBM 증설", "카카오 HBM 증설")
    assert full @ short > full @ other
    # nothing Kiwi calls content ("ㅋㅋㅋ") still embeds, from the words as written
    assert features("ㅋㅋㅋ", "") and embed("ㅋㅋㅋ").shape == (1, DIMENSION)


@pytest.mark.parametrize("title, content", [("", ""), ("   ", "\n\t"), ("🚀🚀🔥", "📈"), ("…!!", "?")])
def test_empty_or_emoji_only_text_is_refused_with_a_reason(title, content):
    with pytest.raises(EmbeddingError, match="no letters or digits"):
        prepare_text(title, content)


def test_a_100_kb_text_is_cut_and_embeds_quickly():
    text = prepare_text("반도체 수출 급증", "HBM 수요가 늘었다. " * 8000)
    assert len(text) == MAX_CHARS
    assert embed(text).shape == (1, DIMENSION)


def test_mixed_scripts_embed_and_match_their_own_language_parts():
    mixed, korean, other = embed("Samsung Electronics 삼성전자 HBM3E 株価 上昇 🚀", "삼성전자 HBM3E 공급",
                                 "카카오뱅크 대출 금리 인하")
    assert mixed @ korean > mixed @ other


def test_batches_respect_count_and_characters():
    embedder = OfflineEmbedder()
    embedder.batch_size, embedder.batch_chars = 3, 10
    assert [len(b) for b in embedder.batches(["a" * 4] * 7)] == [2, 2, 2, 1]
    assert embedder.embed(["삼성", "현대", "기아", "카카오"]).vectors.shape == (4, DIMENSION)


def test_selection_follows_the_settings():
    assert select_embedder(EmbedderSettings("auto")).key == "kiwi-hash@2"
    assert EmbedderSettings("auto", openai_api_key="sk-test").embedder_key() == "openai@text-embedding-3-small"
    with pytest.raises(EmbeddingError, match="AZAK_EMBEDDER must be one of"):
        EmbedderSettings("bert").resolved()
    with pytest.raises(EmbeddingError, match="needs AZAK_OPENAI_API_KEY"):
        EmbedderSettings("openai").resolved()


def labelled_items() -> list[dict]:
    items = [json.loads(line) for path in LABELLED for line in path.read_text().splitlines() if line.strip()]
    usable = []
    for item in items:
        try:
            prepare_text(item["title"], item.get("content", ""))
        except EmbeddingError:
            continue
        usable.append(item)
    return usable


def test_beats_a_char_ngram_tfidf_baseline_on_the_labelled_set():
    items = labelled_items()
    ours, baseline = evaluate(OfflineEmbedder(), items), evaluate_baseline(items)
    assert ours.queries == 265 and ours.duplicate_queries == 60
    # kiwi-hash@2 on the 365 labelled items + 60 duplicate-story items (424 usable, 265 company
    # queries): P@1 0.845 vs 0.747, hit@5 0.951 vs 0.913, duplicate P@1 0.867 vs 0.817, duplicate
    # hit@5 1.000 vs 1.000 (kiwi-hash@1 had 0.777, 0.909, 0.867, 1.000: it lost on hit@5).
    assert ours.p_at_1 > baseline.p_at_1 + 0.05 and ours.p_at_1 >= 0.84
    assert ours.hit_at_5 > baseline.hit_at_5 + 0.02 and ours.hit_at_5 >= 0.95
    assert ours.duplicate_p_at_1 > baseline.duplicate_p_at_1 and ours.duplicate_p_at_1 >= 0.86
    assert ours.duplicate_hit_at_5 >= baseline.duplicate_hit_at_5


def test_beats_the_baseline_on_each_half_of_the_labelled_set():
    # @2's changes were chosen on the first half's figures; the second checks they are not fitted
    # to it. First (112 + 26 queries): P@1 0.857 vs 0.652, hit@5 0.946 vs 0.911, duplicate P@1
    # 0.962 vs 0.962 (one miss each), duplicate hit@5 1.000 for both. Second (127 + 34): 0.795 vs
    # 0.724, 0.937 vs 0.882, 0.941 vs 0.912, 1.000 for both.
    tuned, held_out = halves(labelled_items())
    for part, least_p_at_1 in ((tuned, 0.85), (held_out, 0.79)):
        ours, baseline = evaluate(OfflineEmbedder(), part), evaluate_baseline(part)
        assert ours.queries >= 100 and ours.duplicate_queries >= 26
        assert ours.p_at_1 > baseline.p_at_1 and ours.p_at_1 >= least_p_at_1
        assert ours.hit_at_5 > baseline.hit_at_5 and ours.hit_at_5 >= 0.93
        assert ours.duplicate_p_at_1 >= baseline.duplicate_p_at_1 and ours.duplicate_p_at_1 >= 0.94
        assert ours.duplicate_hit_at_5 >= baseline.duplicate_hit_at_5
