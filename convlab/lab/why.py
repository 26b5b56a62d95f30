"""The Why tab's numbers and words: which pixels made the network say what it said.

explain_input runs the three views of one input: ten signed saliency maps (one per
digit, on one shared scale), the occlusion map of the predicted digit, and, when an
untrained twin of the network is given, its saliency for the same digit (the sanity
check of Adebayo et al. 2018: a map that looks the same for random weights shows
the image, not what the network learned). The input can be shifted first, by whole
pixels with zeros coming in, without centring it again, to show that the network
only learned digits where MNIST put them.
"""

from dataclasses import dataclass

import numpy as np

from convlab import explain
from convlab.evaluation import class_scores
from convlab.lab.network import symmetric_levels
from convlab.nn.architectures import arch_of, build
from convlab.nn.functional import softmax

IMAGE_SIZE = 28
MAX_SHIFT = 14  # pixels in any direction: beyond this nothing of the digit is left
MAX_PATCH = IMAGE_SIZE  # the largest occlusion patch that fits in the image
DEFAULT_PATCH = 4
DEFAULT_STRIDE = 2

SALIENCY_HOW = (
    "<b>How to read it.</b> Each small map is d score / d pixel for one digit: how "
    "that digit's raw score (before softmax) would change if the pixel got a little "
    "more ink. <span style='color:#b2182b'>Red</span> raises the digit's score, "
    "<span style='color:#2166ac'>blue</span> lowers it, white does nothing. All ten "
    "share one colour scale, so they can be compared."
)
SALIENCY_LIMITS = (
    "<b>What it cannot show.</b> A gradient is about a tiny change of one pixel at "
    "a time; it says nothing about removing a whole stroke, and a bright pixel is "
    "not the same as an important one. (Multiplying it by the input, "
    "\"gradient x input\", would be exactly zero on the black background, so it "
    "could never show where ink would help.)"
)
OCCLUSION_HOW = (
    "<b>How to read it.</b> A grey patch of the size you choose slides over the "
    "input; each time the patch's pixels are set to 0 (black) and the network reads "
    "the image again. The colour is how much the predicted digit's probability "
    "<i>dropped</i>: <span style='color:#b2182b'>red</span> where hiding the patch "
    "hurt (the network used that part), <span style='color:#2166ac'>blue</span> "
    "where hiding it helped. Each pixel shows the average of the patches that "
    "covered it."
)
OCCLUSION_LIMITS = (
    "<b>What it cannot show.</b> Only what black patches of this size remove: on "
    "the black background a patch changes nothing, so it cannot show where extra "
    "ink would help (the saliency maps can). Two parts that each alone are enough "
    "both look unimportant."
)
SHIFT_HOW = (
    "Move the 28x28 input by whole pixels, without centring it again (pixels moved "
    "out of the frame are lost, black comes in). MNIST digits are always centred, "
    "so the network never saw a digit at the edge."
)
RANDOM_HOW = (
    "A sanity check (Adebayo et al. 2018): the same network with random, untrained "
    "weights. A map that looks the same for both shows the shape of the input, not "
    "what training taught. Each map has its own colour scale: random weights give "
    "gradients of another size."
)


@dataclass(frozen=True)
class Explanation:
    """What the Why tab shows for one input; every array float64.

    x: the input explained (28, 28), after the shift (down, right); probabilities:
    (10,) the model's for x; unshifted: (10,) its probabilities for the input before the
    shift; saliency: (10, 28, 28), row k = explain.saliency(model, x, k); levels:
    the symmetric colour scale the ten share; best, runner_up: the two digits with
    the highest probability; occlusion: (n, n) explain.occlusion of best for size,
    stride; untrained: (28, 28) the untrained twin's saliency of best, or None.
    """

    x: np.ndarray
    shift: tuple[int, int]
    probabilities: np.ndarray
    unshifted: np.ndarray
    saliency: np.ndarray
    levels: tuple[float, float]
    best: int
    runner_up: int
    occlusion: np.ndarray
    size: int
    stride: int
    untrained: np.ndarray | None


def probabilities(model, x):
    """The model's (10,) float64 class probabilities for one (28, 28) input."""
    logits = class_scores(model, np.asarray(x)[None, None])  # (1, 10)
    return softmax(logits.astype(np.float64))[0]


def top_two(probs):
    """(predicted digit, runner-up): the two highest probabilities, ties to the
    smaller digit."""
    order = np.argsort(-np.asarray(probs), kind="stable")
    return int(order[0]), int(order[1])


def shared_levels(maps):
    """One symmetric scale (-m, m) for all maps, m a round number just above the
    largest |value|: white is exactly zero, and the legend stays put while drawing."""
    return symmetric_levels(maps, round_up=True)


def shift_image(x, down, right):
    """x (H, W) moved down and right by whole pixels (negative: up, left); the
    pixels that come in are 0 and those moved out of the frame are lost."""
    x = np.asarray(x)
    out = np.zeros_like(x)
    h, w = x.shape
    if abs(down) >= h or abs(right) >= w:
        return out
    src_rows = slice(max(-down, 0), h - max(down, 0))
    dst_rows = slice(max(down, 0), h - max(-down, 0))
    src_cols = slice(max(-right, 0), w - max(right, 0))
    dst_cols = slice(max(right, 0), w - max(-right, 0))
    out[dst_rows, dst_cols] = x[src_rows, src_cols]
    return out


def clamp_shift(down, right):
    """The shift (down, right) limited to MAX_SHIFT pixels each way."""
    return (int(np.clip(down, -MAX_SHIFT, MAX_SHIFT)),
            int(np.clip(right, -MAX_SHIFT, MAX_SHIFT)))


def shift_text(down, right):
    """The shift in words, e.g. "2 px down, 1 px left" or "not shifted"."""
    parts = []
    if down:
        parts.append(f"{abs(down)} px {'down' if down > 0 else 'up'}")
    if right:
        parts.append(f"{abs(right)} px {'right' if right > 0 else 'left'}")
    return ", ".join(parts) if parts else "not shifted"


def occlusion_problem(size, stride):
    """Why (size, stride) cannot make an occlusion map, or None when they can."""
    if not 1 <= size <= MAX_PATCH:
        return (f"A {size}x{size} patch does not fit in the 28x28 image: choose a "
                f"patch size from 1 to {MAX_PATCH}. The map keeps the last size that "
                f"fitted.")
    if stride < 1:
        return ("The stride must be at least 1 pixel between patches. The map "
                "keeps the last stride that worked.")
    return None


def occlusion_grid_text(size, stride):
    """How many patches the settings make, and whether they leave gaps."""
    n = (IMAGE_SIZE - size) // stride + 1
    text = (f"{n} x {n} patches of {size} x {size} pixels, one every {stride} "
            f"pixel{'s' if stride != 1 else ''}.")
    if n == 1 and size < IMAGE_SIZE:
        text += f" Only one patch fits: a stride up to {IMAGE_SIZE - size} gives more."
    elif stride > size:
        text += " The stride is larger than the patch: some pixels are never hidden."
    return text


def occlusion_per_pixel(occlusion, size, stride):
    """The (n, n) occlusion map spread over the (28, 28) pixels it covers: each
    pixel the mean of the patches that hid it, NaN where no patch did."""
    n = occlusion.shape[0]
    total = np.zeros((IMAGE_SIZE, IMAGE_SIZE))
    count = np.zeros((IMAGE_SIZE, IMAGE_SIZE))
    for i in range(n):
        for j in range(n):
            rows = slice(i * stride, i * stride + size)
            cols = slice(j * stride, j * stride + size)
            total[rows, cols] += occlusion[i, j]
            count[rows, cols] += 1
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / count, np.nan)


def shift_change_text(unshifted, shifted):
    """What the shift did to the prediction: the digit predicted before it, its
    probability before and after, and the new answer if it changed."""
    digit, _ = top_two(unshifted)
    now, _ = top_two(shifted)
    text = (f"Before the shift: {digit}, P({digit}) = {unshifted[digit]:.1%}. "
            f"After: P({digit}) = {shifted[digit]:.1%}")
    if now != digit:
        return text + f"; the network now says {now} ({shifted[now]:.1%})."
    return text + "."


def untrained_twin(model, rng):
    """A network like model with fresh random weights from rng; model is untouched.

    Raises ValueError when model is not one the architecture editor can build.
    """
    spec = arch_of(model)
    if spec is None:
        raise ValueError("this network is not one the Training tab's editor can "
                         "build, so no untrained copy of it can be made")
    twin = build(spec, rng)
    twin.eval()
    return twin


def explain_input(model, x, shift=(0, 0), size=DEFAULT_PATCH, stride=DEFAULT_STRIDE,
                  untrained=None):
    """Everything the Why tab shows for input x (28, 28) shifted by (down, right).

    model and untrained are only read. size, stride: the occlusion patch (check
    them with occlusion_problem first; explain.occlusion raises ValueError).
    """
    x = np.asarray(x, dtype=np.float64)
    shifted = shift_image(x, *shift)
    probs = probabilities(model, shifted)
    unshifted = probs if shift == (0, 0) else probabilities(model, x)
    saliency = explain.saliency_all(model, shifted)  # (10, 28, 28)
    best, runner_up = top_two(probs)
    occlusion = explain.occlusion(model, shifted, best, size, stride)
    twin = None if untrained is None else explain.saliency(untrained, shifted, best)
    return Explanation(shifted, tuple(shift), probs, unshifted, saliency,
                       shared_levels(saliency), best, runner_up, occlusion, size,
                       stride, twin)
