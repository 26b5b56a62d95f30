"""A plain training loop for the data tests that check a network can learn."""

from convlab import nn


def fit(model, x, y, rng, epochs):
    """A few epochs of Adam (lr 3e-3) on (x, y) in shuffled mini-batches of 32."""
    optimizer = nn.Adam(model.parameters(), lr=3e-3)
    for _ in range(epochs):
        order = rng.permutation(len(y))
        for start in range(0, len(y), 32):
            batch = order[start : start + 32]
            _, dlogits = nn.softmax_cross_entropy(model.forward(x[batch]), y[batch])
            optimizer.zero_grad()
            model.backward(dlogits)
            optimizer.step()
