"""Bars drawn once per process for the same counts (a news run every 10 minutes draws its window's
coverage again, mostly unchanged), and drawn anew when the counts change."""

from azak_pipelines.lib import plots
from tests.pipelines.plots import assert_png_markdown


def test_the_same_bars_are_drawn_once_and_changed_counts_anew():
    first = plots.bars({"naver": 3, "hankyung": 5}, "Articles each source carried, a window", "articles")
    again = plots.bars({"hankyung": 5, "naver": 3}, "Articles each source carried, a window", "articles")
    changed = plots.bars({"naver": 4, "hankyung": 5}, "Articles each source carried, a window", "articles")
    assert again is first  # the image of the same counts, not a second rendering
    assert changed != first
    assert_png_markdown(plots.markdown_image("coverage", changed))
