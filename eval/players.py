"""Players at a table: every bot, agent checkpoint or OpenSpiel bot behind one interface.

The interface is OpenSpiel's `pyspiel.Bot` (`step(state) -> action`,
`restart_at(state)`, `inform_action(state, player, action)`), so OpenSpiel's
own bots and evaluators sit at the same table as ours.

Player specs (strings, as written in tournament files and on the command line):

  random            uniformly random legal moves (OpenSpiel's UniformRandomBot)
  heuristic         the game's heuristic bot, where it has one; any bot the
                    table's game declares (`games.spiel_bot`) likewise
  PATH              a training run directory (any agent that plays the
                    game), or a bundled agent's name such as
                    deepnash-small: its test-time policy, sampled
  PATH@STEP         the same at checkpoint STEP
  PATH[@STEP]:greedy  the same, always playing the policy's most likely move
                    (ties broken at random); ":sample" is the default

Greedy play is stronger against fixed bots (they do not punish a
predictable player) but exploitable by an opponent that adapts: in an
imperfect-information game the sampled policy is the one trained towards a
Nash equilibrium.
"""

from __future__ import annotations

import os

import numpy as np
import pyspiel

from open_spiel.python.bots import policy as policy_bot

import games
from agents.core import runs, spiel_policy

#: Bot names some game declares ("random", "heuristic"; `games.bots`).
BUILTIN = tuple(dict.fromkeys(
    bot for name in games.available_games() for bot in games.bots(name)))
#: How a run's policy picks its move (`RUN_DIR:MODE`).
PLAY_MODES = ("sample", "greedy")


class PlayerSpecError(ValueError):
  """A player spec that names nothing we can build."""


def parse_run_spec(spec: str) -> tuple[str, int | None, str]:
  """`RUN_DIR[@STEP][:MODE]` -> (RUN_DIR, STEP or None, MODE).

  A suffix that is not a step or a mode stays part of the path.
  """
  mode = "sample"
  head, sep, tail = spec.rpartition(":")
  if sep and tail in PLAY_MODES:
    spec, mode = head, tail
  path, sep, step = spec.rpartition("@")
  if not sep or not step.isdigit():
    return spec, None, mode
  return path, int(step), mode


def format_run_spec(path: str, step: int | None, mode: str = "sample") -> str:
  """The inverse of `parse_run_spec` (no mode suffix for "sample")."""
  return (path + ("" if step is None else f"@{step}") +
          ("" if mode == "sample" else f":{mode}"))


def make_player(spec: str, game: pyspiel.Game, player_id: int,
                seed: int) -> pyspiel.Bot:
  """Builds the player `spec` for seat `player_id` of `game`.

  Raises:
    PlayerSpecError: `spec` is neither a built-in bot nor a run directory, or
      the run was trained on another game.
    agents.core.CheckpointError: the run directory is unreadable.
  """
  rng = np.random.RandomState(seed)
  if spec in BUILTIN:  # ValueError for a bot the table's game lacks.
    return games.spiel_bot(game, spec, player_id, seed)
  path, step, mode = parse_run_spec(spec)
  if not runs.resolve_run_dir(path).is_dir():
    bundled = runs.bundled_agents()
    raise PlayerSpecError(
        f"player {spec!r}: not one of {', '.join(BUILTIN)}, not a bundled "
        f"agent ({', '.join(bundled) or 'none'}) and not a run directory")
  policy = spiel_policy.load_policy(os.fspath(path), step=step)
  mismatch = _rules_mismatch(policy.game, game)
  if mismatch:
    raise PlayerSpecError(
        f"player {spec!r} was trained on {policy.game}, not {game} "
        f"({mismatch})")
  return PolicyBot(player_id, rng, policy, greedy=mode == "greedy")


class PolicyBot(policy_bot.PolicyBot):
  """OpenSpiel's `PolicyBot`, also when action 0 is the only legal action.

  OpenSpiel's bot tests `any(actions)` for "no legal action", which is also
  false for `[0]`, and then plays the invalid action -1 (found in a Stratego
  game where a player's only move had id 0). With `greedy` it plays the
  most likely action, drawing among equally likely ones.
  """

  def __init__(self, player_id: int, rng: np.random.RandomState, policy,
               greedy: bool = False):
    super().__init__(player_id, rng, policy)
    self._greedy = greedy

  def step_with_policy(self, state):
    policy = self._policy.action_probabilities(state, self._player_id)
    if not policy:
      return [], pyspiel.INVALID_ACTION
    actions = list(policy)
    probs = np.asarray(list(policy.values()), np.float64)
    if self._greedy:
      actions = [a for a, p in zip(actions, probs) if p == probs.max()]
      probs = np.full(len(actions), 1.0 / len(actions))
    action = int(self._rng.choice(actions, p=probs / probs.sum()))
    return list(policy.items()), action


def _rules_mismatch(trained: pyspiel.Game, table: pyspiel.Game) -> str:
  """Why a policy for `trained` cannot play `table` ("" when it can)."""
  if trained.get_type().short_name != table.get_type().short_name:
    return "another game"
  ours, theirs = trained.get_parameters(), table.get_parameters()
  # Parameters a policy may be played under other values of than it trained
  # with (Stratego's move limit and deployment), as the game declares them.
  free = games.free_params(table.get_type().short_name)
  for key in sorted(set(ours) | set(theirs)):
    if key not in free and ours.get(key) != theirs.get(key):
      return f"{key} differs"
  if trained.num_distinct_actions() != table.num_distinct_actions():
    return "different actions"
  return ""
