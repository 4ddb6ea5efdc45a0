"""GTP time control: the clocks of `time_settings` / `time_left`, and the
per-move budget a player is handed (`move_budget`).

GTP: Farnebäck, "GTP - Go Text Protocol, version 2, draft 2" (2002), section
4.2 (Canadian byo-yomi).
"""

from __future__ import annotations

import dataclasses

SAFETY_FRACTION = 0.9  # Of the computed time budget, the share handed on.
MIN_MOVES_TO_GO = 10  # Main time is never spread over fewer own moves.


@dataclasses.dataclass(frozen=True)
class TimeSettings:
  """GTP `time_settings` (seconds; Canadian byo-yomi, spec section 4.2)."""

  main_time: float
  byo_yomi_time: float
  byo_yomi_stones: int

  @property
  def unlimited(self) -> bool:
    """Byo-yomi time with no stones is GTP's way of saying "no limit"."""
    return self.byo_yomi_time > 0 and self.byo_yomi_stones == 0


def move_budget(settings: TimeSettings | None, time_left: float,
                stones_left: int, empty_points: int) -> float | None:
  """The seconds a player may spend on its next move, or None (no limit).

  With `t` seconds and `s` stones left on the clock (s = 0 while main time
  runs), byo-yomi `B` seconds per `S` stones, and `m = max(10, empty / 2)`
  own moves expected to come (`empty` = empty points on the board):

    in byo-yomi (s > 0):  0.9 * t / s
    in main time:         0.9 * (t / m + B / S)   (B / S = 0: absolute time)

  so the budget shrinks as the clock runs down, and a main time is spread
  over the game while the byo-yomi that follows it stays in reserve. An
  exhausted absolute clock (or `time_settings 0 0 0`) gives 0 seconds.
  """
  if settings is None or settings.unlimited:
    return None
  time_left = max(0.0, float(time_left))
  if stones_left > 0:
    return SAFETY_FRACTION * time_left / stones_left
  moves_to_go = max(MIN_MOVES_TO_GO, empty_points / 2)
  per_period = (settings.byo_yomi_time / settings.byo_yomi_stones
                if settings.byo_yomi_stones > 0 else 0.0)
  return SAFETY_FRACTION * (time_left / moves_to_go + per_period)


@dataclasses.dataclass
class Clock:
  """One colour's clock: seconds left, stones left (0 in main time)."""

  time_left: float = 0.0
  stones_left: int = 0

  @classmethod
  def start(cls, settings: TimeSettings | None) -> Clock:
    if settings is None or settings.main_time > 0:
      return cls(settings.main_time if settings else 0.0, 0)
    return cls(settings.byo_yomi_time, settings.byo_yomi_stones)

  def charge(self, settings: TimeSettings | None, seconds: float) -> None:
    """Charges one move that took `seconds`."""
    if settings is None or settings.unlimited:
      return
    self.time_left -= seconds
    in_byo_yomi = self.stones_left > 0
    if not in_byo_yomi and self.time_left < 0 and settings.byo_yomi_stones:
      # Main time ran out during this move: it is the period's first move.
      self.time_left += settings.byo_yomi_time
      self.stones_left, in_byo_yomi = settings.byo_yomi_stones, True
    if in_byo_yomi:
      self.stones_left -= 1
      if self.stones_left == 0:  # The period is over: a new one starts.
        self.time_left = settings.byo_yomi_time
        self.stones_left = settings.byo_yomi_stones
    self.time_left = max(0.0, self.time_left)
