"""CodeRunner combinator template grader: send the student's formula to derivcheck's
HTTP API and turn the check JSON into CodeRunner's grading JSON (fraction, epiloguehtml).
CodeRunner fills in the {{ ... }} parts (Twig) from the answer and the template
parameters: server (the derivcheck serve address), network, wrt."""
import html
import json
import urllib.error
import urllib.request

ANSWER = """{{ STUDENT_ANSWER | e('py') }}"""
SERVER = "{{ QUESTION.parameters.server }}"
NETWORK = json.loads("""{{ QUESTION.parameters.network | json_encode | e('py') }}""")
WRT = "{{ QUESTION.parameters.wrt }}"
EARNS = {"equivalent": 1.0, "equivalent_almost_everywhere": 1.0, "not_equivalent": 0.0}


def ask(item):
    request = urllib.request.Request(SERVER.rstrip("/") + "/api/check?render=1",
                                     data=json.dumps(item).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=90) as response:
            return json.load(response)
    except urllib.error.HTTPError as err:  # 400: the formula cannot be read
        return json.load(err)


result = ask({"network": NETWORK, "wrt": WRT, "candidate": ANSWER.strip()})
verdict = result.get("verdict")
if verdict == "error":
    text = result.get("rendered") or result["error"]["message"]
    feedback = ("<p>Your formula could not be read (no marks lost: fix it and check again):"
                f"</p><pre>{html.escape(text)}</pre>")
    fraction = 0.0
elif verdict in EARNS:
    fraction = EARNS[verdict]
    feedback = f"<p><b>{html.escape(verdict.replace('_', ' '))}</b></p>"
    cx = result.get("counterexample")
    if cx:
        point = ", ".join(f"{k} = {v}" for k, v in cx["point"].items())
        feedback += (f"<p>At {html.escape(point)} your formula gives "
                     f"{html.escape(cx['candidate'])}, the gradient is "
                     f"{html.escape(cx['expected'])}.</p>")
    for d in result.get("diagnosis", []):
        feedback += f"<p>{html.escape(d['message'])}</p>"
else:  # unknown: for a person to look at
    fraction = 0.0
    feedback = ("<p>derivcheck could not decide; your teacher will look at this answer.</p>"
                f"<p>{html.escape(result.get('reason') or '')}</p>")
print(json.dumps({"fraction": fraction, "epiloguehtml": feedback}))
