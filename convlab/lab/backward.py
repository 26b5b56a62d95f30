"""What the Network tab's Backward view says and scales: the numbers behind its words.

The Backward view shows, for the current input and a target digit ("what the
network should have said"), dL/d(output) of every layer and dL/dW of every conv
filter, from convlab.explain.backprop. This module picks the default target,
judges when the network is already so sure of the target that every gradient is
close to zero (and says so), scales gradients per layer or per map, and writes the
enlarged view's heading and explanation. No Qt here.
"""

from dataclasses import dataclass, replace

import numpy as np

from convlab.lab.network import (
    FILTER_EXPLANATION,
    NOT_FINITE_CAUSE,
    Enlarged,
    enlarged_filter,
    enlarged_map,
    number_text,
    symmetric_levels,
)

# At P(target) >= 99% the loss is below -log(0.99) = 0.01 and dL/d(scores) =
# P - onehot(target) is at most 0.01 in every entry, so every gradient behind it
# is close to zero too: there is nothing left for this image to teach.
SURE_PROBABILITY = 0.99

# The legend's ticks when each map is divided by its own largest |value|: -1 and 1
# are that map's largest gradient, negative or positive.
RELATIVE_TICKS = ((-1.0, "−1"), (0.0, "0"), (1.0, "1"))


def default_target(probabilities, label=None):
    """The digit the gradients explain unless the student picks one: the true label
    when the input is a test image (label 0-9), else the predicted digit.

    probabilities: (10,) the network's output for the input.
    """
    if label is not None:
        return int(label)
    return int(np.argmax(probabilities))


def runner_up(probabilities, target):
    """The most probable digit other than target: the network's next guess."""
    p = np.array(probabilities, dtype=np.float64)  # (10,)
    p[target] = -np.inf
    return int(np.argmax(p))


def is_sure(probabilities, target):
    """True when the network gives target at least SURE_PROBABILITY."""
    return bool(probabilities[target] >= SURE_PROBABILITY)


def number(value):
    """A loss or gradient in three significant digits, never rounded to zero."""
    if not np.isfinite(value):
        return "NaN" if np.isnan(value) else ("∞" if value > 0 else "−∞")
    return f"{value + 0.0:.3g}".replace("-", "−")  # + 0.0: no "−0"


def gradient_text(value):
    """A gradient in a table cell: two significant digits and an exponent, since
    gradients are often far below 0.01 ("0" for exactly zero)."""
    if value == 0:
        return "0"
    return number_text(value, "{:.1e}")


def probability(p):
    """A probability with as many decimals as it takes not to round it to 1."""
    if not 0.999 < p < 1.0:
        return number(p)
    decimals = int(np.floor(-np.log10(1.0 - p))) + 1  # 0.9999937 -> 0.999994
    return f"{p:.{decimals}f}"


def percent(p):
    """A probability as a percentage that never shows 100% or 0% unless it is."""
    if 0.9995 <= p < 1.0:
        return "more than 99.9%"
    if 0.0 < p < 0.0005:
        return "less than 0.1%"
    return f"{100 * p:.1f}%"


def loss_formula(loss, probabilities, target):
    """"L = −log P(3) = −log 0.871 = 0.138": the loss with its numbers plugged in."""
    return (f"L = −log P({target}) = −log {probability(probabilities[target])} = "
            f"{number(loss)}")


@dataclass(frozen=True)
class LossNote:
    """The sentence beside the Backward maps, and the digit to offer instead.

    sure: the network is already sure of the target (every gradient near zero);
    offer: the runner-up digit to explain instead when sure, else None.
    """

    text: str
    sure: bool
    offer: int | None


def loss_note(loss, probabilities, target):
    """What the loss says about the gradients for this target, in plain words."""
    p = float(probabilities[target])
    # Rounding can leave -1e-16 for a certain network: the loss is never negative.
    loss = max(loss, 0.0) if np.isfinite(loss) else loss
    if not np.isfinite(loss) or not np.isfinite(probabilities).all():
        return LossNote(f"The loss is not a number, so neither are the gradients. "
                        f"{NOT_FINITE_CAUSE}", False, None)
    if is_sure(probabilities, target):
        other = runner_up(probabilities, target)
        return LossNote(
            f"Loss {number(loss)}: the network is already sure this is a {target} "
            f"({percent(p)}), so every gradient is close to zero: this image has "
            f"nothing left to teach it. Its next guess is {other} "
            f"({percent(float(probabilities[other]))}).", True, other)
    return LossNote(
        f"Loss {number(loss)} ({loss_formula(loss, probabilities, target)}): the "
        f"network gives a {target} only {percent(p)}. Each map shows how the loss "
        f"would change if that number grew: training moves every weight against its "
        f"gradient, to make a {target} more likely.", False, None)


def scaled_maps(grad, per_map):
    """Gradient maps grad (C, H, W) as drawn: (tiles (C, H, W), levels, scales (C,)).

    Per layer (per_map False) the tiles are the gradients and one symmetric scale
    fits the whole layer, so maps compare with each other. Per map each map is
    divided by its own largest |value| (scales), so the pattern of a map with tiny
    gradients shows too; levels are then (-1, 1) and an all-zero map stays zero.
    """
    if not per_map:
        return grad, symmetric_levels(grad), None
    finite = np.where(np.isfinite(grad), np.abs(grad), 0.0)
    scales = finite.reshape(len(grad), -1).max(axis=1)  # (C,)
    safe = np.where(scales > 0, scales, 1.0)
    return grad / safe[:, None, None], (-1.0, 1.0), scales


def legend_tip(name, grad, levels, per_map, loss, probabilities, target, what,
               scope="column"):
    """The tooltip of a gradient legend: what it shows, with the numbers.

    name: what the legend is under (a column's title, a map); grad: the gradients
    it shows; what: "(output)" for a layer's output, "x" for the input, "W" for a
    conv layer's filters; scope: what one scale covers ("column", "map", ...).
    """
    largest = float(np.max(np.abs(grad[np.isfinite(grad)]), initial=0.0))
    if per_map:
        scale = ("Each map has its own scale: it is divided by its own largest "
                 "|value|, so −1 (blue) and 1 (red) are that map's largest gradients "
                 "and even tiny gradients show their pattern; the enlarged view "
                 "gives the numbers.")
    else:
        lo, hi = levels
        scale = (f"One scale for the whole {scope}: {number(lo)} (blue) to "
                 f"{number(hi)} (red), white is exactly 0.")
    return (f"dL/d{what} for {name}: how much the loss "
            f"{loss_formula(loss, probabilities, target)} would change per unit "
            f"increase of each number. Largest |dL/d{what}| here: {number(largest)}. "
            f"{scale}")


GRADIENT_MAP_EXPLANATION = (
    "A gradient map: each number is dL/d(output), how much the loss would change "
    "if this one number of the layer's output grew a little (the change divided by "
    "the step). Red: more of it would make the network less sure of the target, so "
    "training would push it down; blue: more would help; white: it does not matter "
    "for this image. The chain rule gets it from the next column: dL/d(output) = "
    "sum over the next layer's numbers of dL/d(next) × d(next)/d(output).")
INPUT_GRADIENT_EXPLANATION = (
    "dL/dx: how the loss would change if one pixel of the input got a little more "
    "ink. Blue pixels: more ink there would make the target more likely; red: less "
    "likely.")
WEIGHT_GRADIENT_EXPLANATION = (
    "dL/dW for this filter: for each weight, the sum over every position the filter "
    "visited of dL/d(output) there times the input number under that weight. One "
    "step of gradient descent changes each weight by −learning rate × this number: "
    "red weights go down, blue ones up.")


def _numbers(values, loss, probabilities, target, what):
    """The sentence with this array's own numbers plugged in."""
    finite = np.abs(values[np.isfinite(values)])
    largest = float(finite.max()) if finite.size else 0.0
    return (f" Here {loss_formula(loss, probabilities, target)}, and the largest "
            f"|dL/d{what}| is {number(largest)}.")


def enlarged_gradient_map(name, grad, index, loss, probabilities, target,
                          is_input=False):
    """One column's dL/d(output) enlarged: map index of grad (C, H, W), or for
    index < 0 the whole vector grad (N,) in reading order."""
    shown = enlarged_map(name, grad[None], index)  # enlarged_map wants a batch axis
    what = "x" if is_input else "(output)"
    text = INPUT_GRADIENT_EXPLANATION if is_input else GRADIENT_MAP_EXPLANATION
    values = shown.values if shown.gaps is None else shown.values[~shown.gaps]
    return replace(shown, heading=f"Gradient dL/d{what}, {shown.heading}",
                   explanation=text + _numbers(values, loss, probabilities, target,
                                               what))


def enlarged_weight_gradient(name, grad_weight, index, shown_channel, loss,
                             probabilities, target):
    """Filter index's dL/dW, grad_weight (F, C, kh, kw), every channel in view."""
    shown = enlarged_filter(name, grad_weight, index, shown_channel)
    many = shown.explanation.removeprefix(FILTER_EXPLANATION)
    values = grad_weight[index]
    return Enlarged(f"Gradient dL/dW, {shown.heading}",
                    WEIGHT_GRADIENT_EXPLANATION + many
                    + _numbers(values, loss, probabilities, target, "W"),
                    shown.values, shown.gaps)

