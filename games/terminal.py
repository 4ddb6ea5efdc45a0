"""Terminal input shared by the games' human-play views."""

from __future__ import annotations

from typing import TextIO


def ask(out: TextIO, prompt: str, inp: TextIO, echo: bool) -> str | None:
  """Writes `prompt`, reads a line from `inp`; None at the end of the input.

  With `echo`, the line read is written back (for input that is not a
  terminal, so a transcript shows it).
  """
  out.write(prompt)
  out.flush()
  line = inp.readline()
  if not line:
    out.write("\n")
    return None
  if echo:
    out.write(line if line.endswith("\n") else line + "\n")
  return line
