"""What the Evaluation tab lists besides the numbers: mistakes and confusion cells.

Both read an evaluate() result (predictions (N,), probabilities (N, 10)) with the
true digits y (N,) of the same test set. No Qt here.
"""

import numpy as np

from convlab.lab.network import number_text

MISTAKES = 24  # the most confidently wrong answers shown
GALLERY_LIMIT = 120  # thumbnails per confusion-matrix cell


def mistakes(y, predictions, probabilities, limit=MISTAKES):
    """The wrong answers the network was surest of, surest first (ties in test-set
    order): (indices (<= limit,), captions like "3 → 5, P(5) = 97%": true digit,
    answer and the probability the network gave its answer)."""
    confidence = probabilities[np.arange(len(y)), predictions]  # (N,)
    wrong = np.flatnonzero(predictions != y)
    worst = wrong[np.argsort(-confidence[wrong], kind="stable")][:limit]
    captions = [f"{y[i]} → {predictions[i]}, "
                f"P({predictions[i]}) = {number_text(confidence[i], '{:.0%}')}"
                for i in worst]
    return worst, captions


def cell_gallery(y, predictions, probabilities, true_digit, predicted,
                 limit=GALLERY_LIMIT):
    """The test images in one confusion-matrix cell: (title, the first limit indices,
    their captions "#index P(answer) = probability")."""
    hits = np.flatnonzero((y == true_digit) & (predictions == predicted))
    shown = hits[:limit]
    kind = "right" if true_digit == predicted else "wrong"
    title = f"True {true_digit}, answered {predicted} ({kind}): {len(hits)} images"
    if len(hits) > len(shown):
        title += f", first {len(shown)} shown"
    captions = [f"#{i} P({predicted}) = "
                f"{number_text(probabilities[i, predicted], '{:.0%}')}"
                for i in shown]
    return title, shown, captions
