"""Everything Qt: the window, its widgets, the controller and the training worker."""
