"""The script language against a hostile designer: known Python sandbox escapes, and scripts that try to
run forever or eat the machine.

Each escape is refused at deploy (``check_script`` names the line) or, where it passes the static check,
contained at run time: it raises, and the command it tried to run leaves no trace.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from onewindow.engine._bpmn.scripting import (
    OnewindowScriptEngine,
    ScriptBudgetExceeded,
    ScriptLimits,
    ScriptRejected,
    ScriptViolation,
    check_expression,
    check_script,
)

MARK = "/tmp/onewindow-sandbox-escaped"  # every payload tries to create this file

# (name, script, where it comes from). ``{cmd}`` is replaced by a command creating MARK.
ESCAPES: list[tuple[str, str]] = [
    # The finding of the security probe: a generator's frame leads to the real builtins.
    ("generator frame", "g = (x for x in [1])\ng.gi_frame.f_back.f_builtins['__import__']('os').system({cmd})"),
    (
        "generator frame, no dunder",
        "g = (x for x in [1])\nb = g.gi_frame.f_back.f_back.f_globals\nb['os'].system({cmd})",
    ),
    ("generator code", "g = (x for x in [1])\nc = g.gi_code.co_consts"),
    # The classic: object's subclasses (e.g. Ned Batchelder, "Eval really is dangerous", 2012).
    ("subclasses", "x = ().__class__.__bases__[0].__subclasses__()"),
    ("subclasses via mro", "x = ''.__class__.__mro__[1].__subclasses__()"),
    ("catch_warnings", "[c for c in ().__class__.__base__.__subclasses__() if c.__name__ == 'catch_warnings'][0]()"),
    ("import builtin", "__import__('os').system({cmd})"),
    ("import statement", "import os\nos.system({cmd})"),
    ("from import", "from os import system\nsystem({cmd})"),
    ("builtins dict", "__builtins__['__import__']('os').system({cmd})"),
    ("eval", 'eval("__import__(\'os\').system(" + repr({cmd}) + ")")'),
    ("exec", 'exec("import os; os.system(" + repr({cmd}) + ")")'),
    ("compile", "code = compile('1', 'x', 'eval')"),
    ("open", "open({mark}, 'w').write('x')"),
    ("getattr", "getattr(getattr((), '__class__'), '__base__')"),
    ("vars / globals / locals", "g = globals()\nv = vars()\nl = locals()"),
    ("type()", "t = type(0)\ns = t.__subclasses__(t)"),
    ("function globals", "f = lambda: 0\ng = f.__globals__"),
    ("function globals, old name", "f = lambda: 0\ng = f.func_globals['__builtins__']"),
    ("function code", "f = lambda: 0\nc = f.__code__.co_code"),
    ("bound method self", "m = [].append\nb = m.__self__"),
    ("builtin function self", "b = len.__self__\nb.__import__('os').system({cmd})"),
    # str.format reaches attributes (Armin Ronacher, "Be Careful with Python's New-Style String Format", 2016).
    ("str.format attribute", "x = '{0.__class__.__mro__}'.format('')"),
    ("str.format globals", "x = '{0.__globals__}'.format(lambda: 0)"),
    ("format_map", "x = '{a.__class__}'.format_map({'a': 1})"),
    ("f-string attribute", "x = f'{().__class__.__base__}'"),
    ("f-string conversion", "x = f'{\"\".join!r}'\ny = x.__class__"),
    # A traceback's frames (frame walks used in CTF pyjails).
    (
        "traceback frame",
        "try:\n    1 / 0\nexcept ZeroDivisionError as e:\n    f = e.__traceback__.tb_frame.f_back.f_globals",
    ),
    ("exception args class", "try:\n    {}['x']\nexcept KeyError as e:\n    c = e.args.__class__"),
    ("bare except swallowing", "try:\n    x = 1\nexcept:\n    pass"),
    ("class with metaclass", "class X(type):\n    pass"),
    ("decorator", "@exec\ndef f():\n    pass"),
    ("async frame", "async def f():\n    pass\nc = f().cr_frame"),
    ("yield frame", "def f():\n    yield 1\nfr = f().gi_frame"),
    ("walrus", "(y := 1)"),
    ("global", "global x\nx = 1"),
    ("nonlocal hook", "_ow_tick = None"),
    ("hook by name", "_ow_attr(1, '__class__')"),
    ("dunder via unicode", "ｅｘｅｃ('import os')"),
    ("help / breakpoint", "help()\nbreakpoint()"),
    ("attribute store", "x = []\nx.append = len"),
    ("dict view mapping", "m = {}.keys().mapping"),
    ("generator send", "g = (x for x in [1])\ng.send(None)"),
    ("allowed name, wrong type", "f = lambda: 0\nf.copy()"),
    ("allowed name on a type", "x = str.join"),
    ("exception class method", "x = ValueError.index"),
    ("match statement", "match 1:\n    case x:\n        pass"),
    ("with statement", "with open('x') as f:\n    pass"),
]


def _payload(source: str, mark: Path) -> str:
    cmd = repr(f"touch {mark}")
    return source.replace("{cmd}", cmd).replace("{mark}", repr(str(mark)))


@pytest.mark.parametrize(("name", "source"), ESCAPES, ids=[n for n, _ in ESCAPES])
def test_escape_is_refused_at_deploy_or_contained(name: str, source: str, tmp_path: Path) -> None:
    mark = tmp_path / "escaped"
    script = _payload(source, mark)
    engine = OnewindowScriptEngine()
    try:
        check_script(script)
    except ScriptRejected as err:
        assert str(err).startswith("line "), str(err)  # names the line, as deploy prints it
        assert "\n" not in str(err)
    else:
        with pytest.raises(Exception) as info:
            engine.environment.execute(script, {})
        assert isinstance(info.value, NameError | ScriptViolation | TypeError | AttributeError), repr(info.value)
    assert not mark.exists()


def test_corpus_is_large_and_the_probe_finding_is_refused_at_deploy() -> None:
    assert len(ESCAPES) >= 20
    with pytest.raises(ScriptRejected, match=r"line 2: attribute 'gi_frame' is not allowed"):
        check_script(ESCAPES[0][1])


@pytest.mark.parametrize(
    "expression",
    [
        "().__class__",
        "'{0.__class__}'.format(x)",
        "f'{x.__class__}'",
        "__import__('os')",
        "(lambda: 0).__globals__",
        "x.gi_frame",
    ],
)
def test_conditions_use_the_same_language(expression: str) -> None:
    with pytest.raises(ScriptRejected):
        check_expression(expression)


# -- budgets ------------------------------------------------------------------------------------------------
LIMITS = ScriptLimits(time_limit_seconds=0.5, memory_limit_mb=16, max_iterations=200_000)


def _run(source: str, limits: ScriptLimits = LIMITS) -> tuple[BaseException | None, float]:
    engine = OnewindowScriptEngine(limits=limits)
    started = time.perf_counter()
    try:
        engine.environment.execute(source, {"items": ["a", "b"]})
    except Exception as err:
        return err, time.perf_counter() - started
    return None, time.perf_counter() - started


@pytest.mark.parametrize(
    ("source", "kind"),
    [
        ("while True:\n    pass", "iterations"),
        ("x = 'x' * 10 ** 10", "memory"),
        ("x = 10 ** 10 ** 10", "memory"),
        ("x = 1 << 10 ** 12", "memory"),
        ("x = [0] * 10 ** 9", "memory"),
        ("x = 'a'.center(10 ** 10)", "memory"),
        ("x = f'{1:>10000000000}'", "memory"),
        ("x = '%1000000000d' % 1", "memory"),
        ("x = list(range(10 ** 12))", "iterations"),
        ("x = ''.join(['y' * 1000000] * 1000)", "memory"),
        ("s = 'ab' * 100\nfor i in range(30):\n    s = s.replace('a', s)", "memory"),
        ("l = [1]\nfor i in range(64):\n    l.extend(l)", "memory"),
        ("l = []\nwhile True:\n    l.append('x' * 100000)", "memory"),
        # shared references: small to build, 2**40 elements to print, compare, hash or store
        ("x = [0]\nfor i in range(40):\n    x = [x, x]\ny = str(x)", "memory"),
        ("x = [0]\ny = [0]\nfor i in range(40):\n    x = [x, x]\n    y = [y, y]\nz = x == y", "memory"),
        ("t = (1,)\nfor i in range(60):\n    t = (t, t)", "memory"),
        ("x = [0]\nfor i in range(40):\n    x = [x, x]", "memory"),
        ("def f(n):\n    return f(n - 1) + f(n - 1) if n else 1\nx = f(60)", None),
        ("try:\n    while True:\n        pass\nexcept ValueError:\n    pass", "iterations"),
        ("try:\n    while True:\n        pass\nfinally:\n    while True:\n        pass", "iterations"),
    ],
)
def test_runaway_scripts_stop_within_their_budget(source: str, kind: str | None) -> None:
    err, took = _run(source)
    assert isinstance(err, ScriptBudgetExceeded), repr(err)
    if kind is not None:
        assert err.kind == kind, str(err)
    assert "budget" in str(err)
    assert took < 10 * LIMITS.time_limit_seconds  # stopped by the budget, not by the machine


def test_the_time_budget_stops_a_slow_loop() -> None:
    limits = ScriptLimits(time_limit_seconds=0.2, memory_limit_mb=16, max_iterations=10**9)
    err, _ = _run("x = 0\nwhile True:\n    x = x + 1", limits)
    assert isinstance(err, ScriptBudgetExceeded) and err.kind == "time"
    assert "time budget of 0.2 s" in str(err)


def test_conditions_have_budgets_too() -> None:
    engine = OnewindowScriptEngine(limits=LIMITS)
    with pytest.raises(ScriptBudgetExceeded):
        engine.environment.evaluate("len('x' * 10 ** 10) > 0", {})
    with pytest.raises(ScriptBudgetExceeded):
        engine.environment.evaluate("sum(1 for i in range(10 ** 5) for j in range(10 ** 5)) > 0", {})


def test_ordinary_scripts_work_within_the_budget() -> None:
    engine = OnewindowScriptEngine(limits=LIMITS)
    data: dict[str, Any] = {"required": ["M01", "M02", "M03"], "got": ["M02"], "fees": [10, 20.5]}
    engine.environment.execute(
        "missing = [m for m in required if m not in got]\n"
        "total = sum(fees)\n"
        "label = ', '.join(sorted(missing)).upper()\n"
        "summary = f'{len(missing)} missing: {label!s:>5}'\n"
        "counts = {m: required.index(m) for m in required}\n"
        "pairs = [(i, m) for i, m in enumerate(required) if (i, m) != (0, 'M01')]\n"
        "ok = isinstance(total, float) and isinstance(missing, list) and 'M01' in missing\n"
        "try:\n    x = counts['nope']\nexcept KeyError:\n    x = -1\n"
        "def double(n):\n    return n * 2\n"
        "doubled = list(map(double, [1, 2]))\n"
        "text = '%s/%d' % ('a', 3)\n",
        data,
    )
    assert data["missing"] == ["M01", "M03"] and data["total"] == 30.5
    assert data["summary"] == "2 missing: M01, M03" and data["ok"] is True and data["x"] == -1
    assert data["counts"] == {"M01": 0, "M02": 1, "M03": 2} and data["doubled"] == [2, 4]
    assert data["pairs"] == [(1, "M02"), (2, "M03")] and data["text"] == "a/3"
    assert "double" not in data  # functions are not data


def test_a_script_cannot_leave_a_generator_in_the_case() -> None:
    engine = OnewindowScriptEngine()
    with pytest.raises(ScriptViolation, match="'g' holds a generator"):
        engine.environment.execute("g = (x for x in [1])", {})


def test_switched_off_scripts_do_not_run_but_conditions_do() -> None:
    engine = OnewindowScriptEngine(limits=ScriptLimits(enabled=False))
    with pytest.raises(ScriptViolation, match=r"\[scripts\] enabled = false"):
        engine.environment.execute("x = 1", {})
    assert engine.environment.evaluate("decision == 'approve'", {"decision": "approve"}) is True
