"""A scripted GTP engine for tests, and the player spec that runs it.

Run as `python fake_engine.py MODE LOG`: it logs every command (without its
id) to LOG and answers as MODE says:

  pass       genmove passes; every other command succeeds
  resign     genmove resigns
  occupied   genmove always answers A1
  nonsense   genmove answers "Z0", which is no vertex
  refuse     play of any stone fails ("illegal move")
  small      boardsize fails except for 5
"""

from __future__ import annotations

import pathlib
import shlex
import sys

COMMANDS = ("boardsize", "clear_board", "komi", "play", "genmove", "quit",
            "list_commands", "name")
_GENMOVE = {"resign": "resign", "occupied": "A1", "nonsense": "Z0"}


def engine_spec(log_dir: pathlib.Path, mode: str) -> tuple[str, pathlib.Path]:
  """("gtp:python fake_engine.py MODE LOG", LOG) with LOG in `log_dir`."""
  log = log_dir / f"{mode}.log"
  argv = [sys.executable, str(pathlib.Path(__file__).resolve()), mode,
          str(log)]
  return "gtp:" + shlex.join(argv), log


def _answer(mode: str, words: list[str]) -> tuple[bool, str]:
  name = words[0]
  if name == "list_commands":
    return True, "\n".join(COMMANDS)
  if name == "boardsize" and mode == "small" and words[1] != "5":
    return False, "unacceptable size"
  if name == "play" and mode == "refuse" and words[2] != "pass":
    return False, "illegal move"
  if name == "genmove":
    return True, _GENMOVE.get(mode, "pass")
  return True, ""


def main(mode: str, log_path: str) -> None:
  with open(log_path, "a", encoding="utf-8") as log:
    for line in sys.stdin:
      words = line.split()
      if not words:
        continue
      cid = words.pop(0) if words[0].isdigit() else ""
      log.write(" ".join(words) + "\n")
      log.flush()
      ok, text = _answer(mode, words)
      sys.stdout.write(("=" if ok else "?") + cid + " " + text + "\n\n")
      sys.stdout.flush()
      if words[0] == "quit":
        return


if __name__ == "__main__":
  main(*sys.argv[1:3])
