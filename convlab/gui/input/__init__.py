"""The input column: the drawing canvas, the 28x28 preview and the prediction."""
