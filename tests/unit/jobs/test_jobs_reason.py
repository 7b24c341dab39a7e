"""A failed job's reason names the cause (issue 14): the first failed task, or the lines
ansible printed when it stopped before any task -- never only "exited with 2"."""

from __future__ import annotations

from server_agent.jobs.executor import REASON_MAX, error_lines, explain_failure, task_message

CANT_OPEN = ("/usr/bin/python3.11: can't open file '/root/flypack/.venv/bin/ansible-playbook': "
             "[Errno 13] Permission denied\r\n")


def test_cannot_start_names_the_file_and_the_errno() -> None:
    reason = explain_failure(2, CANT_OPEN)
    assert reason == ("ansible-playbook exited with 2: /usr/bin/python3.11: can't open file "
                      "'/root/flypack/.venv/bin/ansible-playbook': [Errno 13] Permission denied")


def test_ansible_error_lines_win_over_warnings() -> None:
    out = ("[WARNING]: No inventory was parsed, only implicit localhost is available\n"
           "[ERROR]: the playbook: nope.yml could not be found\n")
    assert explain_failure(1, out).endswith("[ERROR]: the playbook: nope.yml could not be found")
    legacy = "some noise\nERROR! Syntax Error while loading YAML.\n  did not find expected key\n"
    assert "ERROR! Syntax Error while loading YAML." in explain_failure(4, legacy)


def test_a_traceback_gives_its_last_line() -> None:
    out = ("Traceback (most recent call last):\n  File \"x\", line 1, in <module>\n"
           "ModuleNotFoundError: No module named 'ansible'\n")
    assert error_lines(out)[0] == "ModuleNotFoundError: No module named 'ansible'"


def test_the_sandbox_says_what_it_could_not_run() -> None:
    out = "flypack-sandbox: cannot run /usr/bin/python3.11: Permission denied\n"
    assert "flypack-sandbox: cannot run /usr/bin/python3.11" in explain_failure(127, out)


def test_a_failed_task_names_task_host_message_and_how_many_more() -> None:
    failures = [("rtr-01", "Check TCP", "connection refused"), ("rtr-02", "Check TCP", "x")]
    reason = explain_failure(2, "irrelevant\n", failures, failed_hosts=3)
    assert reason == ("ansible-playbook exited with 2: task 'Check TCP' failed on rtr-01: "
                      "connection refused (and on 2 more hosts)")
    one = explain_failure(2, "", [("enc-01", "Restart", "")], failed_hosts=1)
    assert one == "ansible-playbook exited with 2: task 'Restart' failed on enc-01"


def test_no_output_says_so_and_long_output_is_bounded() -> None:
    assert "printed nothing" in explain_failure(3, "")
    assert explain_failure(250, "just a line\n").endswith(": just a line")
    long = explain_failure(1, "ERROR! " + "x" * 5000)
    assert len(long) == REASON_MAX and long.endswith("…")


def test_task_message_prefers_msg_then_stderr_then_the_line() -> None:
    assert task_message({"msg": "boom\n  twice"}) == "boom twice"
    assert task_message({"stderr": "\x1b[31mred\x1b[0m"}) == "red"
    assert task_message(None, "fatal: [h]: FAILED!") == "fatal: [h]: FAILED!"
    assert task_message({"msg": "y" * 400}).endswith("…")
