"""Qt-free computations the window teaches: what each view shows, as numbers tests
can check."""
