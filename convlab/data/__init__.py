"""The digits: MNIST files, download, preprocessing and augmentation; pure NumPy."""
