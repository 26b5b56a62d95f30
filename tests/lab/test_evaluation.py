"""The Evaluation tab's lists: most confidently wrong answers and a cell's images."""

import numpy as np

from convlab.lab.evaluation import cell_gallery, mistakes


def answers():
    """Six test digits: true labels, the answers and their probabilities."""
    y = np.array([3, 3, 5, 7, 7, 1])
    predictions = np.array([3, 5, 5, 1, 1, 7])
    probabilities = np.full((6, 10), 0.01)
    probabilities[np.arange(6), predictions] = [0.9, 0.6, 0.8, 0.95, 0.6, np.nan]
    return y, predictions, probabilities


def test_mistakes_are_the_wrong_answers_surest_first():
    """Only wrong answers, surest first, equal sureness in test-set order."""
    y, predictions, probabilities = answers()
    indices, captions = mistakes(y, predictions, probabilities)
    assert indices.tolist() == [3, 1, 4, 5]  # 95%, 60%, 60%, then NaN last
    assert captions[0] == "7 → 1, P(1) = 95%"
    assert captions[-1] == "1 → 7, P(7) = NaN"


def test_mistakes_stop_at_the_limit():
    """At most limit mistakes are listed."""
    y, predictions, probabilities = answers()
    indices, captions = mistakes(y, predictions, probabilities, limit=2)
    assert indices.tolist() == [3, 1] and len(captions) == 2


def test_cell_gallery_lists_the_cells_images():
    """A cell holds the images of that true digit given that answer, captioned with
    the answer's probability; the title says right or wrong and how many."""
    y, predictions, probabilities = answers()
    title, indices, captions = cell_gallery(y, predictions, probabilities, 7, 1)
    assert indices.tolist() == [3, 4]
    assert title == "True 7, answered 1 (wrong): 2 images"
    assert captions == ["#3 P(1) = 95%", "#4 P(1) = 60%"]
    title, indices, _ = cell_gallery(y, predictions, probabilities, 3, 3)
    assert indices.tolist() == [0] and "(right): 1 images" in title


def test_cell_gallery_says_when_it_shows_only_the_first_images():
    """Beyond the limit the title gives the full count and how many are shown."""
    y, predictions, probabilities = answers()
    title, indices, captions = cell_gallery(y, predictions, probabilities, 7, 1,
                                            limit=1)
    assert indices.tolist() == [3] and len(captions) == 1
    assert title.endswith("2 images, first 1 shown")
