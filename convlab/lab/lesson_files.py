"""Lesson files: JSON lessons read and checked, with the line of every problem.

A lesson file holds a title and a list of steps; each step may set the window up,
asks one question and names the kind of its answer (lab.lessons computes it).
docs/lessons.md describes the format. parse_lesson() refuses a bad file with a
LessonError naming the line and the problem (json's own line for a syntax error,
the line of the offending key for anything else); load_folder() loads every *.json
of a folder, keeping the good lessons and the errors side by side. No Qt here.
"""

import json
import re
from dataclasses import dataclass
from pathlib import Path

from convlab.lab.lessons import ANSWER_KINDS
from convlab.lab.presets import PRESETS
from convlab.nn.architectures import NAMED_ARCHS


class LessonError(ValueError):
    """A lesson file that cannot be used: line (1-based, or None) and problem."""

    def __init__(self, name, line, problem):
        where = f"{name}, line {line}" if line else name
        super().__init__(f"{where}: {problem}")
        self.name, self.line, self.problem = name, line, problem


# The file format


SETUP_KEYS = {
    "test_image": int, "kernel": str, "kernel_size": int, "input_factor": int,
    "stride": int, "padding": (int, str), "pool": str, "pool_size": int,
    "pool_stride": int, "side_by_side": bool, "architecture": str,
    "open_filter": list, "close_filter": bool, "network": str, "tab": str,
    "model": str,
}
# A training run the step offers (Run button): the first `images` training digits,
# validated on the first `validation` test digits, which it never trains on.
RUN_KEYS = {"images": int, "validation": int, "epochs": int, "lr": float,
            "optimizer": str, "batch_size": int}
TABS = ("network", "training", "my_digits", "evaluation", "playground", "why",
        "lessons")
STEP_KEYS = {"say": str, "setup": dict, "run": dict, "question": str,
             "answer": dict, "reveal": str, "look_at": str}
LESSON_KEYS = {"title": str, "summary": str, "steps": list}


def line_map(text):
    """{path: line} of every key and array item of JSON text, e.g.
    ("steps", 2, "answer", "kind") -> the line of that key (1-based)."""
    lines = {}
    stack = []  # [container kind, path, next array index or pending key]
    token = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\]:,]|[^\s{}\[\]:,"]+')
    expect_key = False
    for m in token.finditer(text):
        tok, line = m.group(), text.count("\n", 0, m.start()) + 1
        top = stack[-1] if stack else None
        if tok in "{[" and len(tok) == 1:
            path = _value_path(top, lines, line)
            stack.append(["obj" if tok == "{" else "arr", path, 0])
            expect_key = tok == "{"
        elif tok in "}]" and len(tok) == 1:
            stack.pop()
            expect_key = False
        elif tok == ",":
            expect_key = top is not None and top[0] == "obj"
            if top is not None and top[0] == "arr":
                top[2] += 1
        elif tok == ":":
            expect_key = False
        elif expect_key and top is not None:
            top[2] = json.loads(tok)
            lines[top[1] + (top[2],)] = line
        else:
            _value_path(top, lines, line)
    return lines


def _value_path(top, lines, line):
    """The path of a value starting here; array items get their line recorded."""
    if top is None:
        return ()
    path = top[1] + (top[2],)
    if top[0] == "arr":
        lines.setdefault(path, line)
    return path


def _line(lines, path):
    """The line of path, else of the nearest enclosing key or item that has one."""
    path = tuple(path)
    while path and path not in lines:
        path = path[:-1]
    return lines.get(path, 1)


def _type_name(kind):
    names = {int: "a whole number", float: "a number", str: "text", bool: "true or "
             "false", list: "a list", dict: "an object {...}"}
    if isinstance(kind, tuple):
        return " or ".join(names[k] for k in kind)
    return names[kind]


def _fits(value, kind):
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if isinstance(value, bool):
        return bool in kinds
    if float in kinds and isinstance(value, int):
        return True
    return isinstance(value, kinds)


@dataclass(frozen=True)
class Lesson:
    """One lesson: id (its file name without .json), title, summary and steps (the
    validated step dicts of the file)."""

    id: str
    title: str
    summary: str
    steps: tuple


def _check_keys(data, known, path, lines, name, required=()):
    if not isinstance(data, dict):
        raise LessonError(name, _line(lines, path), "expected an object {...}")
    for key in required:
        if key not in data:
            raise LessonError(name, _line(lines, path), f"'{key}' is missing")
    for key, value in data.items():
        if key not in known:
            raise LessonError(name, _line(lines, path + (key,)), f"unknown key "
                              f"'{key}'; known: {', '.join(sorted(known))}")
        if not _fits(value, known[key]):
            raise LessonError(name, _line(lines, path + (key,)), f"'{key}' must be "
                              f"{_type_name(known[key])}, got {json.dumps(value)}")


def _check_setup(setup, path, lines, name):
    _check_keys(setup, SETUP_KEYS, path, lines, name)
    problems = {
        "kernel": (lambda v: v in {k for k, _, _ in PRESETS}, "a preset: " +
                   ", ".join(k for k, _, _ in PRESETS)),
        "padding": (lambda v: v in (0, 1, 2, 3, "same"), "0, 1, 2, 3 or \"same\""),
        "pool": (lambda v: v in ("none", "max", "avg"), "none, max or avg"),
        "architecture": (lambda v: v in NAMED_ARCHS, ", ".join(NAMED_ARCHS)),
        "network": (lambda v: v in ("forward", "backward"), "forward or backward"),
        "model": (lambda v: v == "bundled", '"bundled"'),
        "tab": (lambda v: v in TABS, ", ".join(TABS)),
        "open_filter": (lambda v: len(v) == 2 and all(_fits(i, int) for i in v),
                        "[layer, filter]"),
    }
    for key, (ok, allowed) in problems.items():
        if key in setup and not ok(setup[key]):
            raise LessonError(name, _line(lines, path + (key,)), f"'{key}' must be "
                              f"{allowed}, got {json.dumps(setup[key])}")


def _check_answer(answer, path, lines, name):
    if not isinstance(answer, dict) or "kind" not in answer:
        raise LessonError(name, _line(lines, path), "'answer' needs a \"kind\"")
    kind = answer["kind"]
    if kind not in ANSWER_KINDS:
        raise LessonError(name, _line(lines, path + ("kind",)), f"unknown answer "
                          f"kind {json.dumps(kind)}; known: "
                          f"{', '.join(sorted(ANSWER_KINDS))}")
    params = ANSWER_KINDS[kind].params
    known = {"kind": str, "tolerance": float, **params}
    _check_keys(answer, known, path, lines, name, required=tuple(params))


def _check_run(run, path, lines, name):
    _check_keys(run, RUN_KEYS, path, lines, name, required=("images", "epochs"))
    if run.get("optimizer", "adam") not in ("adam", "sgd"):
        raise LessonError(name, _line(lines, path + ("optimizer",)),
                          "'optimizer' must be adam or sgd")
    for key in ("images", "epochs", "batch_size", "validation"):
        if key in run and run[key] < 1:
            raise LessonError(name, _line(lines, path + (key,)), f"'{key}' must be "
                              "at least 1")
    if run.get("lr", 1.0) <= 0:
        raise LessonError(name, _line(lines, path + ("lr",)), "'lr' must be > 0")


def parse_lesson(text, name="lesson"):
    """A Lesson from JSON text; a LessonError names the line and the problem."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LessonError(name, exc.lineno, f"not valid JSON: {exc.msg}") from None
    lines = line_map(text)
    _check_keys(data, LESSON_KEYS, (), lines, name, required=("title", "steps"))
    if not data["steps"]:
        raise LessonError(name, _line(lines, ("steps",)), "'steps' is empty")
    for i, step in enumerate(data["steps"]):
        path = ("steps", i)
        _check_keys(step, STEP_KEYS, path, lines, name, required=("question",
                                                                 "answer"))
        _check_setup(step.get("setup", {}), path + ("setup",), lines, name)
        _check_answer(step["answer"], path + ("answer",), lines, name)
        if "run" in step:
            _check_run(step["run"], path + ("run",), lines, name)
        if step.get("look_at", "lessons") not in TABS:
            raise LessonError(name, _line(lines, path + ("look_at",)),
                              f"'look_at' must be one of {', '.join(TABS)}")
    return Lesson(Path(name).stem, data["title"], data.get("summary", ""),
                  tuple(data["steps"]))


def load_folder(folder):
    """(lessons, errors) of every *.json in folder, by file name; a file that
    cannot be read or parsed gives a LessonError and the others still load."""
    lessons, errors = [], []
    for path in sorted(Path(folder).glob("*.json")):
        try:
            lessons.append(parse_lesson(path.read_text(encoding="utf-8"), path.name))
        except LessonError as exc:
            errors.append(exc)
        except (OSError, UnicodeDecodeError) as exc:
            errors.append(LessonError(path.name, None, f"cannot be read ({exc})"))
    return lessons, errors
