"""What one backward step shows: the grids of its sums and the sentences around them.

Each *_rows function turns a step of convlab.lab.backward_steps into rows for an
ArithmeticView, [(grids, operators, footer)]: every row is one update of the
backward loop, "before + what this cell adds = after". The *_formula functions give
the same update in one line with the numbers plugged in, for the tooltips.
"""

import numpy as np

from convlab.nn.reference import create_mask_from_window


def _n(value):
    """A number in a sentence: signed, 4 significant digits, never "-0"."""
    return f"{value + 0.0:+.4g}"


def _span(step, size):
    """The rows and columns a window covers, as the forward step-through says them."""
    return (f"rows {step.top}..{step.top + size - 1}, "
            f"cols {step.left}..{step.left + size - 1}")


def _cell(step):
    return f"dout[{step.out_row}, {step.out_col}]"


def conv_formula(step, size):
    """One conv step's three updates in one line, numbers plugged in."""
    g = _n(step.g)
    return (f"dW += {_cell(step)} × patch = {g} × patch;  db += {g};  "
            f"dx[{_span(step, size)}] += {g} × W")


def pool_formula(step, size, mode):
    """One pooling step's update in one line, numbers plugged in."""
    if mode == "max":
        mask = create_mask_from_window(step.window)
        row, col = np.unravel_index(np.argmax(mask), mask.shape)
        return (f"dx[row {step.top + row}, col {step.left + col}] += "
                f"{_cell(step)} = {_n(step.g)} (the window's maximum); the other "
                "cells of the window get 0")
    return (f"dx[{_span(step, size)}] += {_cell(step)} / ({size}·{size}) = "
            f"{_n(step.g)} / {size * size} = {_n(step.g / (size * size))} each")


def conv_where(step, count, size):
    """Where the step is, in the words the forward step-through uses."""
    return (f"Step {step.index} of 0..{count - 1}: output cell (row {step.out_row}, "
            f"col {step.out_col}) sends its gradient {_cell(step)} = {_n(step.g)} back "
            f"through the {size}x{size} window at {_span(step, size)} of the padded "
            "input.")


def pool_where(step, count, size):
    """Where a pooling step is."""
    return (f"Step {step.index} of 0..{count - 1}: pooled cell (row {step.out_row}, "
            f"col {step.out_col}) sends {_cell(step)} = {_n(step.g)} back to its "
            f"{size}x{size} window at {_span(step, size)} of the ReLU output.")


def conv_rows(step, before, kernel):
    """Three rows: dout × patch, then dW and dx before + share = after.

    before: the previous ConvBackStep, or None for the first step (all zeros).
    """
    f = kernel.shape[0]
    g = np.array([[step.g]])  # (1, 1): the one number this cell sends back
    cell = _cell(step)
    dw_before = np.zeros_like(step.dw) if before is None else before.dw
    db_before = 0.0 if before is None else before.db
    dx_before = (np.zeros_like(step.dx_pad) if before is None
                 else before.dx_pad)[step.top:step.top + f, step.left:step.left + f]
    dx_after = step.dx_pad[step.top:step.top + f, step.left:step.left + f]
    contribution = step.patch * step.g
    return [
        ([("patch (the window)", step.patch, None, False), (cell, g, None, True),
          (f"{cell} × patch", contribution, None, True)], ["×", "="],
         f"{cell} × patch: each input value of the window times {_n(step.g)}"),
        ([("dW before", dw_before, None, True),
          (f"{cell} × patch", contribution, None, True),
          ("dW after", step.dw, None, True)], ["+", "="],
         f"dW += {cell} × patch;  db += {cell}: db = {_n(db_before)} + "
         f"({_n(step.g)}) = {_n(step.db)}"),
        ([("dx window before", dx_before, None, True),
          (f"{cell} × W", kernel * step.g, None, True),
          ("dx window after", dx_after, None, True)], ["+", "="],
         f"dx[{_span(step, f)}] += {cell} × W = {_n(step.g)} × W: the gradient goes "
         "back through every weight to the pixel it multiplied"),
    ]


def pool_rows(step, before, size, mode):
    """Two rows: the share of the window, then dx before + share = after."""
    cell = _cell(step)
    dx_before = (np.zeros_like(step.dx) if before is None
                 else before.dx)[step.top:step.top + size, step.left:step.left + size]
    dx_after = step.dx[step.top:step.top + size, step.left:step.left + size]
    if mode == "max":
        # The same mask the step used: its share is this mask times the gradient.
        mask = create_mask_from_window(step.window)
        winner = np.unravel_index(np.argmax(mask), mask.shape)
        first = ([("window (yellow = the maximum)", step.window, mask, False),
                  (f"mask × {cell}", step.share, mask, True)], ["→"],
                 f"create_mask_from_window: only the maximum "
                 f"({step.window[winner]:.4g}) passed forward, so it gets all of "
                 f"{cell} = {_n(step.g)}")
    else:
        first = ([(cell, np.array([[step.g]]), None, True),
                  (f"{cell} / ({size}·{size})", step.share, None, True)], ["→"],
                 f"distribute_value: each of the {size * size} cells counted "
                 f"1/{size * size} in the mean, so each gets {_n(step.g)} / "
                 f"{size * size} = {_n(step.g / (size * size))}")
    return [first,
            ([("dx window before", dx_before, None, True),
              ("share", step.share, None, True),
              ("dx window after", dx_after, None, True)], ["+", "="],
             f"dx[{_span(step, size)}] += share (overlapping windows add up)")]
