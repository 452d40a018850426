"""``derivcheck serve`` on the command line."""
import sys

from derivcheck.app.cli import build_parser, main


def test_serve_options():
    args = build_parser().parse_args(["serve", "--port", "9000", "-j", "3", "--timeout", "5"])
    assert (args.host, args.port, args.jobs, args.timeout) == ("127.0.0.1", 9000, 3, 5.0)


def test_serve_says_how_to_install_its_extra(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "uvicorn", None)  # as if it were not installed
    assert main(["serve"]) == 2
    err = capsys.readouterr().err
    assert "needs Starlette and uvicorn (uvicorn is not installed)" in err
    assert "pip install 'derivcheck[serve]'" in err


def test_score_needs_a_grader_format(tmp_path, capsys):
    src = tmp_path / "in.jsonl"
    src.write_text("")
    assert main(["batch", str(src), "-o", str(tmp_path / "o"), "--score", "unknown=0"]) == 2
    assert "--score applies to the grader formats" in capsys.readouterr().err


def test_a_taken_port_is_a_clear_error(capsys):
    import socket
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        assert main(["serve", "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert f"cannot listen on 127.0.0.1:{port}" in err and "another --port" in err
