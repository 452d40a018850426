"""``derivcheck run``: check every formula of a question file and write its sheets and
reports into one folder.

A question file (TOML) has a ``title``, ``assume`` (conditions for every formula),
``[networks.NAME]`` tables (the fields of a network file), ``sheets`` (names of networks
to write a sheet for; default all) and ``[[formulas]]`` (``network``, ``text``, and
optionally ``wrt``, ``label``, ``expect``, ``assume``, ``kink_convention``). The whole file
is checked before anything is written, with messages that name the field
(``formulas[3]: 'text' is missing``); sizes are bounded (:mod:`derivcheck.limits`). Every
file is written inside ``--out`` (a network's name becomes a safe file name), and the run
lists what it wrote and why anything was not written.
"""
from __future__ import annotations

import json
import tomllib
from pathlib import Path

from .. import limits
from ..decide.check import check, timed_out
from ..errors import DerivcheckError, LimitError, OutputError, SpecError
from ..guard import Timeout, time_limit
from ..write.files import file_in
from ..write.textout import format_result
from .commands import within_budget
from .fields import TABLE, TABLES, TEXT, TEXTS, Field, validate

__all__ = ["cmd_run", "read_question", "QUESTION", "FORMULA"]

QUESTION = (
    Field("title", TEXT, about="the question's title"),
    Field("assume", TEXTS, about='conditions for every formula, such as "x > 0"'),
    Field("networks", TABLE, about="[networks.NAME] tables"),
    Field("sheets", TEXTS, about="names of networks to write a sheet for"),
    Field("formulas", TABLES, about="[[formulas]] tables"),
)
FORMULA = (
    Field("network", TEXT, required=True, about="the name of a [networks.NAME] table"),
    Field("text", TEXT, required=True, about="the formula"),
    Field("wrt", TEXT, about="the parameter"),
    Field("label", TEXT, about="a title for the formula"),
    Field("expect", TEXT, about="the verdict or error kind expected"),
    Field("assume", TEXTS, about='conditions such as "x > 0"'),
    Field("kink_convention", TEXT, about='"any", "torch", "0", ...'),
)


class QuestionError(SpecError):
    """A question file that cannot be used as it is."""

    kind = "question_error"


def read_question(path) -> tuple[dict, dict, list]:
    """(the file's fields, {name: Network}, [formula fields]) of a question file, checked
    whole. Raises :class:`QuestionError` naming the field at fault.

    >>> import tempfile, pathlib
    >>> q = pathlib.Path(tempfile.mkdtemp()) / "q.toml"
    >>> _ = q.write_text('assume = "x > 0"\\n[networks.one]\\nweights = ["w1"]\\n'
    ...                  '[[formulas]]\\nnetwork = "one"\\ntext = "x"\\n')
    >>> data, nets, formulas = read_question(q)
    >>> data["assume"], list(nets), formulas[0]["text"]
    (['x > 0'], ['one'], 'x')
    >>> _ = q.write_text('formulas = ["x"]\\n')
    >>> read_question(q)
    Traceback (most recent call last):
    derivcheck.app.question.QuestionError: error: the question file: 'formulas' must be a list of objects ([[formulas]] tables), not a list holding a string
    """
    from ..core.network import from_dict
    path = Path(path)
    name = str(path)
    try:
        with open(path, "rb") as fh:
            raw = fh.read(limits.MAX_QUESTION_SIZE + 1)
    except OSError as exc:
        raise QuestionError(f"cannot read question file {name!r}: {exc.strerror}") from None
    if len(raw) > limits.MAX_QUESTION_SIZE:
        raise LimitError(f"the question file {name!r} is larger than "
                         f"{limits.MAX_QUESTION_SIZE} bytes", position=limits.MAX_QUESTION_SIZE)
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise QuestionError(f"question file {name!r} is not UTF-8 text: byte {exc.start} "
                            "cannot be read", hint="save the file as UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise QuestionError(f"cannot read question file {name!r}: {exc}") from None
    data = validate(data, QUESTION, "the question file", QuestionError)
    networks = data.get("networks", {})
    formulas = data.get("formulas", [])
    for what, items, most in (("networks", networks, limits.MAX_QUESTION_NETWORKS),
                              ("formulas", formulas, limits.MAX_QUESTION_FORMULAS)):
        if len(items) > most:
            raise LimitError(f"the question file has {len(items)} {what}; the limit is {most}",
                             position=0, hint="split it into several files")
    nets = {}
    for key, spec in networks.items():
        if not isinstance(spec, dict):
            raise QuestionError(f"networks.{key}: must be a table of network fields "
                                "(weights, activations, ...)")
        try:
            nets[key] = from_dict(spec)
        except DerivcheckError as err:
            err.message = f"networks.{key}: {err.message}"
            raise
    checked = []
    for i, f in enumerate(formulas, 1):
        fields = validate(f, FORMULA, f"formulas[{i}]", QuestionError)
        if fields["network"] not in nets:
            raise QuestionError(f"formulas[{i}]: network {fields['network']!r} is not defined "
                                "in the file", hint="known: " + (", ".join(nets) or "none"))
        checked.append(fields)
    for i, key in enumerate(data.get("sheets", list(nets)), 1):
        if key not in nets:
            raise QuestionError(f"sheets[{i}]: {key!r} is not a network of the file",
                                hint="known: " + (", ".join(nets) or "none"))
    return data, nets, checked


def cmd_run(args) -> int:
    """Exit 0 when every formula was judged as expected, 1 when one was not, 2 when the
    question file is unusable or a file could not be written (the others are written)."""
    data, nets, formulas = read_question(_question_path(args))
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot make the folder {str(out)!r}: {exc.strerror}",
                          hint="choose another --out") from None
    run = _Run(args, out, text=args.format == "text")
    run.title = data.get("title", _question_path(args).stem)
    run.say(run.title)
    for i, f in enumerate(formulas, 1):
        run.formula(i, f, nets[f["network"]], data.get("assume", []))
    from ..write.sheet import sheet_source
    taken: set = set()
    for key in data.get("sheets", list(nets)):
        path = file_in(out, "sheet-", key, ".pdf")
        n = 1
        while path.name in taken:  # two names that map to one file name
            n += 1
            path = file_in(out, "sheet-", f"{key}-{n}", ".pdf")
        taken.add(path.name)
        run.write(path, f"writing the sheet of {key}",
                  lambda key=key: sheet_source(nets[key], assume=data.get("assume", [])))
    return run.finish()


def _question_path(args) -> Path:
    """QUESTION.toml, or the shipped question ``--example`` names."""
    if args.example:
        from ..examples import example_path
        return Path(str(example_path(args.example)))
    if args.question:
        return Path(args.question)
    raise QuestionError("no question file given",
                        hint="derivcheck run QUESTION.toml, or derivcheck run --example seed")


class _Run:
    """What a run printed, judged and wrote."""

    def __init__(self, args, out: Path, text: bool):
        self.args, self.out, self.text = args, out, text
        self.results, self.written, self.not_written = [], [], []
        self.failed_write = False
        self.title = ""

    def say(self, line: str) -> None:
        if self.text:
            print(line)

    def formula(self, i: int, f: dict, net, assume) -> None:
        label, expect = f.get("label", f"formula {i}"), f.get("expect")
        self.say(f"\n{i}. {label}\n   {f['text']}")
        entry = {"index": i, "label": label, "text": f["text"], "expect": expect}
        report = self.out / f"report-{i}.pdf"
        try:
            with time_limit(self.args.timeout + limits.TIMEOUT_SLACK):
                r = check(net, f["text"], f.get("wrt"), assume=f.get("assume", assume),
                          convention=f.get("kink_convention", "any"),
                          timeout=self.args.timeout)
        except Timeout as exc:
            r = timed_out(exc, self.args.timeout, wrt=f.get("wrt"), candidate=f["text"],
                          convention=f.get("kink_convention", "any"))
        except DerivcheckError as err:
            ok = expect == err.kind
            self.say("   " + err.render().replace("\n", "\n   ") + _mark(expect, ok))
            entry.update(result=err.to_json(), as_expected=ok)
            self.not_written.append({"file": str(report), "reason": "the formula could not "
                                     f"be judged ({err.kind}: {err.message})"})
            self.results.append(entry)
            return
        ok = expect is None or expect == r.verdict
        self.say("   " + format_result(r).replace("\n", "\n   ") + _mark(expect, ok))
        entry.update(result=r.to_json(), as_expected=ok)
        self.results.append(entry)
        if r.network is None:
            self.not_written.append({"file": str(report), "reason": "the check ran out of "
                                     "time before a verdict"})
            return
        from ..write.report import report_source
        self.write(report, f"writing the report of formula {i}", lambda: report_source(r))

    def write(self, path: Path, doing: str, source) -> None:
        from ..write.pdf import write_tex_or_pdf
        try:
            with within_budget(self.args.timeout, doing):
                write_tex_or_pdf(source(), path)
        except DerivcheckError as err:
            self.failed_write = self.failed_write or err.kind in ("output_error", "pdf_error")
            self.not_written.append({"file": str(path), "reason": err.message})
        else:
            self.written.append(str(path))

    def finish(self) -> int:
        met, n = sum(e["as_expected"] for e in self.results), len(self.results)
        code = 2 if self.failed_write else 0 if met == n else 1
        if not self.text:
            print(json.dumps({"title": self.title, "formulas": self.results, "met": met, "total": n,
                              "written": self.written, "not_written": self.not_written},
                             indent=1, allow_nan=False))
            return code
        print(f"\n{met} of {n} formulas judged as expected.")
        print(f"written in {self.out}/: " + (", ".join(Path(p).name for p in self.written)
                                             or "nothing"))
        for entry in self.not_written:
            print(f"not written: {Path(entry['file']).name}: {entry['reason']}")
        return code


def _mark(expect, ok: bool) -> str:
    if expect is None:
        return ""
    return "\n   [as expected]" if ok else f"\n   [EXPECTED {expect}]"
