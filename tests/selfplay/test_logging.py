"""`selfplay.logging.MetricsLogger`: JSON lines, and TensorBoard when it can."""

import logging
import sys

from selfplay import logging as log_lib


def test_metrics_go_to_json_lines_and_tensorboard(tmp_path):
  logger = log_lib.MetricsLogger(tmp_path)
  logger.write(3, {"loss": 0.5, "name": "x"})
  logger.close()
  [record] = log_lib.read_metrics(tmp_path)
  assert record["step"] == 3 and record["loss"] == 0.5
  assert any((tmp_path / "tb").iterdir())


def test_without_tensorboardx_the_run_logs_json_lines_only(
    tmp_path, monkeypatch, caplog):
  monkeypatch.setitem(sys.modules, "tensorboardX", None)  # Import fails.
  with caplog.at_level(logging.WARNING):
    logger = log_lib.MetricsLogger(tmp_path)
  logger.write(1, {"loss": 1.0})
  logger.close()
  assert "tensorboardX is not installed" in caplog.text
  assert [r["loss"] for r in log_lib.read_metrics(tmp_path)] == [1.0]
  assert not (tmp_path / "tb").exists()


def test_metrics_mean_weights_updates_by_their_steps_and_starts_over():
  window = log_lib.MetricsMean()
  assert window.pop() is None
  window.add({"loss": 1.0, "return": 0.0})
  window.add({"loss": 4.0, "return": 1.0}, steps=3)  # a mean of 3 steps
  mean = window.pop()
  assert mean["loss"] == (1.0 + 3 * 4.0) / 4
  assert mean["return"] == 0.75
  assert window.pop() is None
  window.add({"loss": 2.0})
  assert window.pop()["loss"] == 2.0


def test_an_evaluation_is_one_console_line_per_result():
  line = log_lib.format_evaluation(800, {
      "vs_heuristic/win": 0.5, "vs_heuristic/draw": 0.125,
      "vs_heuristic/loss": 0.375, "vs_heuristic_greedy/win": 1.0,
      "vs_heuristic_greedy/draw": 0.0, "vs_heuristic_greedy/loss": 0.0,
      "nash_conv": 0.0213, "loss": 3.0})
  assert line == ("eval at step 800: vs heuristic W-D-L 50%-12%-38%, "
                  "vs heuristic (greedy) W-D-L 100%-0%-0%, NashConv 0.0213")
  assert log_lib.format_evaluation(5, {"loss": 1.0}) is None


def test_lines_mode_prints_evaluations_as_they_land(capsys):
  progress = log_lib.Progress(total=10, mode="lines")
  progress.report_evaluation(4, {"eval_return": 12.5})
  progress.report_evaluation(5, {"loss": 1.0})
  assert capsys.readouterr().out == "eval at step 4: return 12.5\n"
