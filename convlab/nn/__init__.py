"""The neural-network engine: pure NumPy, no Qt."""

from convlab.nn.functional import softmax_cross_entropy
from convlab.nn.init import init_weights
from convlab.nn.layers import (
    AvgPool2d,
    BatchNorm2d,
    Conv2d,
    Dropout,
    Flatten,
    Linear,
    MaxPool2d,
    ReLU,
)
from convlab.nn.module import Module, Parameter, Sequential
from convlab.nn.optim import SGD, Adam
from convlab.nn.serialization import (
    Checkpoint,
    ModelFileError,
    from_config,
    load_model,
    save_model,
)

__all__ = [
    "Adam", "AvgPool2d", "BatchNorm2d", "Checkpoint", "Conv2d", "Dropout", "Flatten",
    "Linear", "MaxPool2d", "Module", "ModelFileError", "Parameter", "ReLU", "SGD",
    "Sequential", "from_config", "init_weights", "load_model", "save_model",
    "softmax_cross_entropy",
]
