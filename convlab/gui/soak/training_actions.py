"""The student's actions in the Training and Playground tabs."""

from __future__ import annotations

import time

from convlab.gui.soak.record import spin

STEP_WAIT_S = 10.0  # how long one Step one batch may take to show its point

# What a student types into a kernel cell: numbers, mistakes and traps.
CELL_TEXTS = ("0", "1", "-1", "0.5", "-0.25", "2", "1e-3", " 3 ", "", "abc", "1,5",
              "nan", "NaN", "inf", "-inf", "1e30", "-1e30", "1e31", "1e300",
              "9" * 40, "0x10", "½", "1e-320")
# What a student types into the learning rate box (its range is 1e-5..1).
LR_TEXTS = ("0.001", "0.0001", "0.01", "0.1", "1", "10", "1.0", "0", "abc",
            "0.00001")


class TrainingActions:
    """Training and Playground actions of the Student, who brings the helpers
    (_tab, _click, _type, ...) and the Playground's widgets by name (pg)."""

    def train_start(self, rng):
        self._tab(1)
        return self._click(self.window.training_panel.start)

    def train_pause(self, rng):
        self._tab(1)
        button = self.window.training_panel.pause
        return f"{button.text()}: {self._click(button)}"

    def train_step(self, rng):
        """Step one batch; the curves must then show that batch's point."""
        self._tab(1)
        panel = self.window.training_panel
        if not (panel.step.isEnabled() and panel.step.isVisible()):
            return "disabled"
        before = panel.curves.curve_points("loss", "step")
        failures = self._failure_count()
        panel.step.click()
        deadline = time.monotonic() + STEP_WAIT_S
        while (panel.curves.curve_points("loss", "step") == before
               and self._failure_count() == failures
               and time.monotonic() < deadline):
            spin(0.02)
        if panel.curves.curve_points("loss", "step") == before \
                and self._failure_count() == failures:
            self.recorder.violation(
                "Step one batch added no point to the loss curve",
                f"still {before} points after {STEP_WAIT_S:g} s; state "
                f"{self.window.controller.session.state}")
        after = panel.curves.curve_points("loss", "step")
        return f"clicked ({before} -> {after} points)"

    def _failure_count(self):
        return sum(n for (_, kind, _), n in self.recorder.dialogs.items()
                   if kind == "error")

    def train_stop(self, rng):
        self._tab(1)
        return self._click(self.window.training_panel.stop)

    def train_reinit(self, rng):
        self._tab(1)
        return self._click(self.window.training_panel.reinit)

    def train_lr(self, rng):
        self._tab(1)
        text = self._pick(rng, LR_TEXTS)
        box = self.window.training_panel.settings.lr
        self._type(box, text)
        return f"typed {text!r}: lr {box.value():g}"

    def train_settings(self, rng):
        self._tab(1)
        panel = self.window.training_panel
        what = int(rng.integers(5))
        if what == 0:
            optimizer = panel.settings.optimizer
            return "optimizer " + self._choose(
                optimizer, int(rng.integers(optimizer.count())))
        if what == 1:
            # Batches up to 256: a 1024-image batch of 32-filter maps is a
            # memory test of its own, not what this soak watches.
            return "batch " + self._set(panel.settings.batch_size,
                                        self._pick(rng, (1, 2, 16, 64, 256)))
        if what == 2:
            return "epochs " + self._set(panel.settings.epochs,
                                         self._pick(rng, (1, 2, 100)))
        if what == 3:
            # Its maximum follows the epochs: none, one or every epoch plain.
            box = panel.settings.clean_epochs
            return "plain epochs " + self._set(box,
                                               self._pick(rng, (0, 1, box.maximum())))
        if not panel.settings.augment.isEnabled():
            return "augment disabled"
        panel.settings.augment.click()
        return f"augment {panel.settings.augment.isChecked()}"

    def arch_edit(self, rng):
        """Edit the architecture; extremes make it impossible, which must be said."""
        self._tab(1)
        panel = self.window.training_panel
        blocks = panel.arch_editor.blocks
        block = blocks[int(rng.integers(len(blocks)))]
        what = int(rng.integers(8))
        if what == 0:
            return "blocks " + self._set(panel.arch_editor.block_count,
                                         rng.integers(1, 4))
        if what == 1:
            # Up to 32 filters, for the same reason as the batch size.
            return "filters " + self._set(block.filters,
                                          self._pick(rng, (1, 4, 8, 32)))
        if what == 5:
            return "pool " + self._choose(block.pool,
                                          int(rng.integers(block.pool.count())))
        if what == 6:
            if not panel.arch_editor.batch_norm.isEnabled():
                return "batch norm disabled"
            panel.arch_editor.batch_norm.click()
            return f"batch norm {panel.arch_editor.batch_norm.isChecked()}"
        if what == 7:
            return "dense " + self._set(panel.arch_editor.dense,
                                        self._pick(rng, (0, 16, 128)))
        spin = (block.kernel, block.stride, block.padding, block.pool_size)[what - 2]
        value = self._pick(rng, (spin.minimum(), spin.maximum(),
                                 int(rng.integers(spin.minimum(),
                                                  spin.maximum() + 1))))
        return f"{spin.accessibleName()} " + self._set(spin, value)

    def arch_preset(self, rng):
        self._tab(1)
        combo = self.window.training_panel.arch_editor.preset
        names = [i for i in range(combo.count()) if combo.itemData(i) is not None]
        return "preset " + self._choose(combo, self._pick(rng, names))

    def kernel_cell(self, rng):
        self._tab(4)
        editor = self.window.playground_panel.editor
        size = editor.kernel().shape[0]
        row, col = (int(v) for v in rng.integers(0, 7, 2))
        text = self._pick(rng, CELL_TEXTS)
        row, col = row % size, col % size
        self._type(editor.cell(row, col), text)
        return f"cell ({row}, {col}) <- {text!r}"

    def kernel_size(self, rng):
        self._tab(4)
        spin = self.pg["Kernel size"]
        value = self._pick(rng, (spin.minimum(), spin.maximum(),
                                 int(rng.integers(1, 8))))
        return "size " + self._set(spin, value)

    def kernel_preset(self, rng):
        self._tab(4)
        combo = self.pg["Kernel preset"]
        return self._choose(combo, int(rng.integers(1, combo.count())))

    def kernel_action(self, rng):
        self._tab(4)
        button = self._pick(rng, self.kernel_actions)
        return f"{button.text()}: {self._click(button)}"

    def kernel_bank(self, rng):
        self._tab(4)
        tabs = self.pg["Filter bank kernels"]
        what = int(rng.integers(3))
        if what == 0:
            return "add: " + self._click(self.pg["Add a kernel to the filter bank"])
        if what == 1:
            return "remove: " + self._click(
                self.pg["Remove the kernel from the filter bank"])
        index = int(rng.integers(4)) % max(tabs.count(), 1)
        if tabs.isVisible():
            tabs.setCurrentIndex(index)
        return f"kernel K{index + 1}"

    def pg_stride(self, rng):
        self._tab(4)
        spin = self.pg["Stride"]
        return "stride " + self._set(spin, self._pick(rng, (1, 4, 2, 3)))

    def pg_padding(self, rng):
        self._tab(4)
        combo = self.pg["Padding"]
        return "padding " + self._choose(combo, int(rng.integers(combo.count())))

    def pg_pooling(self, rng):
        self._tab(4)
        what = int(rng.integers(4))
        if what == 0:
            combo = self.pg["Pooling type"]
            return "pooling " + self._choose(combo, int(rng.integers(combo.count())))
        if what == 3:
            box = self.pg["Show max and average pooling side by side"]
            box.click()
            return f"max vs average {box.isChecked()}"
        spin = self.pg["Pool size" if what == 1 else "Pool stride"]
        value = self._pick(rng, (spin.minimum(), spin.maximum(), 2))
        return f"{spin.accessibleName()} " + self._set(spin, value)

    def pg_input(self, rng):
        self._tab(4)
        combo = self.pg["Input size"]
        return "input " + self._choose(combo, int(rng.integers(combo.count())))

    def pg_cell(self, rng):
        """Click an output cell: the step-through walks to its window."""
        self._tab(4)
        panel = self.window.playground_panel
        view = self._pick(rng, (panel.maps.conv_view, panel.maps.relu_view,
                                     panel.maps.pool_view))
        r, c = (float(v) for v in rng.random(2))
        shown = view.current_map()
        if shown is None or not view.isVisible() or shown.ndim != 2:
            return "no map"
        row, col = int(r * shown.shape[0]), int(c * shown.shape[1])
        view.cell_clicked.emit(row, col)
        return f"cell ({row}, {col}) of {view.accessibleName() or 'map'}"

    def filter_tool(self, rng):
        what = int(rng.integers(7))
        if not self.pg["Close the network filter"].isVisible() or what == 6:
            return "open " + self._open_filter(rng)
        self._tab(4)
        if what == 5:
            spin = self.pg["Input channel of the filter"]
            if not spin.isVisible():
                return "one channel only"
            return "channel " + self._set(
                spin, rng.integers(spin.minimum(), spin.maximum() + 1))
        name = ("Switch the filter off", "Freeze the filter",
                "Reset the filter to its learned values", "Close the network filter",
                "Measure test accuracy now")[what]
        return f"{name}: {self._click(self.pg[name])}"
