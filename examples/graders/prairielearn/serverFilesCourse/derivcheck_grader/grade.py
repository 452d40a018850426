"""PrairieLearn external grader: /grade/data/data.json in, /grade/results/results.json out.

Each of ``params.questions`` (from the question's server.py) is graded against the
student's ``submitted_answers[id]`` by ``derivcheck batch --format prairielearn``: the
score is the fraction of right answers; an answer that cannot be read makes the
submission not gradable (``format_errors`` with the caret), so a typo costs nothing.
GRADE_ROOT replaces /grade (to try it locally).
"""
import json
import os
import sys
import tempfile
from pathlib import Path

from derivcheck.app.cli import main

def grade() -> int:
    root = Path(os.environ.get("GRADE_ROOT", "/grade"))
    data = json.loads((root / "data" / "data.json").read_text())
    answers = data.get("submitted_answers", {})
    (root / "results").mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        batch = Path(tmp) / "answers.jsonl"
        with open(batch, "w", encoding="utf-8") as out:
            for q in data["params"]["questions"]:
                answer = answers.get(q["id"])
                item = {"id": q["id"], "network": q["network"], "wrt": q["wrt"],
                        "candidate": answer if isinstance(answer, str) else ""}
                out.write(json.dumps(item) + "\n")
        return main(["batch", str(batch), "-o", str(root / "results" / "results.json"),
                    "--format", "prairielearn", "--timeout", "20", "--no-progress"])


if __name__ == "__main__":  # workers re-import this file
    sys.exit(grade())
