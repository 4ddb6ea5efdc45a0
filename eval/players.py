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

Go (the table's game is OpenSpiel's `go`, e.g. `go(board_size=9,komi=7.5)`)
has its own players (`eval.go.spiel_players`):

  gnugo:L           GNU Go at level L, 0 (weakest) to 10, over GTP, with
                    --chinese-rules --capture-all-dead --play-out-aftermath
                    --never-resign; its level is its time budget
  gtp:COMMAND       any GTP engine, COMMAND its command line, split as a
                    shell would: "gtp:/usr/local/bin/pachi -t =5000"
  PATH[@STEP]       a Go agent's run (or bundled Go agent): tree search with
                    a fixed 64 simulations a move (`DEFAULT_SIMULATIONS`)
  PATH[@STEP]:sims=N  the same with N simulations a move (N >= 0)
  PATH[@STEP]:sims=N,retrieve=root  an agent with retrieval: the root's
                    neighbours serve the whole search (the default, "node",
                    retrieves at every expanded node)
  PATH[@STEP]:greedy  the network's most likely move, no search (= :sims=0)

A Go agent plays its run's checkpoint STEP (the latest by default;
`NetworkPlayer`). Fixed simulation counts keep tournament results
reproducible. An engine that resigns, plays a move that
is illegal in the table's game, or refuses a legal move of the opponent
forfeits the game: its side loses (`Forfeit`).

Greedy play is stronger against fixed bots (they do not punish a
predictable player) but exploitable by an opponent that adapts: in an
imperfect-information game the sampled policy is the one trained towards a
Nash equilibrium.
"""

from __future__ import annotations

import os
import re

import numpy as np
import pyspiel

from open_spiel.python.bots import policy as policy_bot

import games
from agents.core import runs, spiel_policy

#: Bot names some game declares ("random", "heuristic"; `games.bots`).
BUILTIN = tuple(dict.fromkeys(
    bot for name in games.available_games() for bot in games.bots(name)))
#: How a run's policy picks its move (`RUN_DIR:MODE`); Go agents also take
#: `sims=N` (`SIMS_MODE`).
PLAY_MODES = ("sample", "greedy")
SIMS_MODE = re.compile(r"sims=(\d+)(?:,retrieve=(node|root))?")


class PlayerSpecError(ValueError):
  """A player spec that names nothing we can build."""


class Forfeit(Exception):  # noqa: N818  (a game event, not a failure)
  """Raised by a bot's `step` or `inform_action`: its side gives up the game.

  An external engine resigned, played a move that is illegal in the table's
  game, or cannot follow the game. Tournaments (`eval.tournament`) and
  human play score it as a loss for that side: -1, the other side +1.
  """


def parse_run_spec(spec: str) -> tuple[str, int | None, str]:
  """`RUN_DIR[@STEP][:MODE]` -> (RUN_DIR, STEP or None, MODE).

  MODE is "sample" (the default), "greedy" or, for Go agents, "sims=N".
  A suffix that is not a step or a mode stays part of the path.

  Raises:
    PlayerSpecError: a `:sims=` suffix without a whole number.
  """
  mode = "sample"
  head, sep, tail = spec.rpartition(":")
  if sep and tail.startswith("sims="):
    if not SIMS_MODE.fullmatch(tail):
      raise PlayerSpecError(
          f"player {spec!r}: ':sims=N[,retrieve=node|root]' needs a whole "
          "number of tree-search simulations N >= 0 (and, for an agent "
          f"with retrieval, where it retrieves), got {tail!r}")
    spec, mode = head, tail
  elif sep and tail in PLAY_MODES:
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
    PlayerSpecError: `spec` is neither a built-in bot, a Go engine (at a Go
      table) nor a run directory, is malformed, or the run was trained on
      another game; a Go engine that cannot start.
    agents.core.CheckpointError: the run directory is unreadable.
    FileNotFoundError: `gnugo:L` without GNU Go installed.
  """
  rng = np.random.RandomState(seed)
  if spec in BUILTIN:  # ValueError for a bot the table's game lacks.
    return games.spiel_bot(game, spec, player_id, seed)
  is_go = game.get_type().short_name == "go"
  if is_engine_spec(spec):
    if not is_go:
      raise PlayerSpecError(
          f"player {spec!r} is a Go engine (GTP); this table plays "
          f"{game.get_type().short_name}")
    # pylint: disable-next=g-import-not-at-top
    from eval.go import spiel_players
    return spiel_players.make_engine_bot(spec, game, player_id, seed)
  path, step, mode = parse_run_spec(spec)
  if not runs.resolve_run_dir(path).is_dir():
    bundled = runs.bundled_agents()
    go = ", gnugo:L, gtp:COMMAND" if is_go else ""
    raise PlayerSpecError(
        f"player {spec!r}: not one of {', '.join(BUILTIN)}{go}, not a "
        f"bundled agent ({', '.join(bundled) or 'none'}) and not a run "
        "directory")
  if is_go:
    return _go_network(spec, os.fspath(path), step, mode, game, player_id)
  if mode not in PLAY_MODES:
    raise PlayerSpecError(f"player {spec!r}: ':{mode}' is for Go agents "
                          "(tree search); use :greedy or :sample")
  policy = spiel_policy.load_policy(os.fspath(path), step=step)
  mismatch = _rules_mismatch(policy.game, game)
  if mismatch:
    raise PlayerSpecError(
        f"player {spec!r} was trained on {policy.game}, not {game} "
        f"({mismatch})")
  return PolicyBot(player_id, rng, policy, greedy=mode == "greedy")


def is_engine_spec(spec: str) -> bool:
  """Whether `spec` names a Go engine over GTP ("gnugo:L", "gtp:COMMAND")."""
  return spec == "gnugo" or spec.startswith(("gnugo:", "gtp:"))


def check_engine_spec(spec: str) -> None:
  """Checks an engine spec's syntax without starting anything.

  Raises:
    PlayerSpecError: a malformed spec, saying what is valid.
  """
  from eval.go import spiel_players  # pylint: disable=g-import-not-at-top
  spiel_players.engine_command(spec)


def _go_network(spec: str, path: str, step: int | None, mode: str,
                game: pyspiel.Game, player_id: int) -> pyspiel.Bot:
  """Our Go network at a Go table (see the module docstring)."""
  from eval.go import spiel_players  # pylint: disable=g-import-not-at-top
  retrieve_at = "node"
  if mode == "greedy":
    simulations = 0
  elif mode == "sample":
    simulations = spiel_players.DEFAULT_SIMULATIONS
  else:
    matched = SIMS_MODE.fullmatch(mode)
    simulations = int(matched.group(1))
    retrieve_at = matched.group(2) or retrieve_at
  return spiel_players.make_network_bot(spec, path, simulations, game,
                                        player_id, step=step,
                                        retrieve_at=retrieve_at)


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
