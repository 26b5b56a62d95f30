"""`python -m convlab bench soak`: a seeded random student pokes the real window.

The real main window runs offscreen on real MNIST (or a few generated digits) while
a seeded "student" does what students do, through the widgets themselves: draws,
undoes and clears strokes, switches tabs, types numbers, text, NaN, inf and huge
values into kernel cells, pushes stride, padding and pooling to their limits,
starts, pauses, steps and stops training, changes the learning rate mid-run (also
to 1 and 10), asks for new random weights, clicks the confusion matrix, switches
network filters off, freezes and resets them, labels drawings for My digits and
removes them, picks test images, opens broken model files. Dialogs are answered
automatically (message boxes recorded, file choosers given a path or a cancel).

Measured meanwhile:

* exceptions: everything that reaches sys.excepthook or threading.excepthook, and
  anything an action itself raises, with its stack and the actions before it;
* Qt warnings (qInstallMessageHandler);
* broken promises the window makes (invariants): Step one batch adds a point to
  the curves, the GUI's copy of the network equals the live one when no run is
  going, the probabilities on show are finite and add up to 1;
* GUI stalls: how late a 10 ms QTimer fires (the GuiProbe of `bench gui`), with the
  action that was running;
* memory: resident set size after a warm-up (every action once) and at the end;
* a clean close: window.close() while a run trains, every thread joined, timed.

The actions are drawn from the seed alone (never from the window's state), so the
same seed replays the same sequence; the window decides what each one does.
Floors: no exception, no stall of 1 s or more, RSS growth under 300 MB, clean close,
no broken invariant.
"""
