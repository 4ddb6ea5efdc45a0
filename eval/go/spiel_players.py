"""Go players as `pyspiel.Bot`s at OpenSpiel's `go`: GTP engines and our
trained Go network, for tournaments (`eval.tournament`) and `arena play go`.

Player specs (`eval.players` documents the whole syntax):

  gnugo:L        GNU Go at level L (0..10) over GTP, with `GNUGO_OPTIONS`
                 (as `eval.go.expert_games` runs it); its level is its budget
  gtp:COMMAND    any GTP engine command line, split as a shell would
                 ("gtp:/opt/katago gtp -model m.bin.gz")
  RUN[@STEP][:greedy|:sims=N]   a Go agent's run directory or bundled agent
                 (`eval.go.network_player.NetworkPlayer`): tree search with
                 N simulations per move (DEFAULT_SIMULATIONS without a
                 suffix), or `:greedy`, the network's most likely move

`GTPBot` keeps its engine's board in step with OpenSpiel's state: a new game
at `restart_at` (`boardsize`, `clear_board`, `komi`, then `set_random_seed`
when the engine knows it), `play` for every move it has not seen (sent when
the opponent's move is announced through `inform_action`, and caught up from
the state's history before each `genmove`, so a bot that missed moves, or
whose game was taken back, resynchronises, replaying from an empty board
when the history is not an extension of the engine's). Its side forfeits
the game (`eval.players.Forfeit`: it loses, -1 against +1) when the engine
resigns, answers `genmove` with a move that is no legal move of OpenSpiel's
game, or refuses a move OpenSpiel's game allows (it plays other rules). An
engine that dies or hangs (no answer in `timeout_s`) is an error, not a
result. `close()` ends the engine's process; tournaments close their bots
when they end.

OpenSpiel's `go` bars simple ko recaptures, as GNU Go does by default, and
ends the game as a draw (0, 0) when a move repeats an earlier position.
Our engine (`games.go`) has positional superko instead, so its legal moves
are among OpenSpiel's: `NetworkBot` replays OpenSpiel's history into our
`GoState` move by move (`GoPosition`), and never chooses a move OpenSpiel
forbids. A repeating move, which our rules bar, only ever ends OpenSpiel's
game; `GoPosition` still follows it (it puts the stone on the board and
rebuilds the position with every earlier one barred).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np
import pyspiel

import games
from eval import players as players_lib
from eval.go import gtp_client
from eval.go.players import RESIGN, Move
from games.go import env as go_env
from games.go import Go, GoState, coords
from games.go import rules as rules_lib

#: GNU Go's options for `gnugo:L`: Chinese (area) rules, positional superko
#: (our rules'; GNU Go's default is simple ko), every dead stone captured on
#: the board (so that area scoring agrees), no resignation.
GNUGO_OPTIONS = ("--chinese-rules", "--positional-superko",
                 "--capture-all-dead", "--play-out-aftermath", "--never-resign")
#: Tree-search simulations per move of a Go run without `:sims=N`.
DEFAULT_SIMULATIONS = 64
#: The longest wait for one engine reply, in seconds (GNU Go at level 10
#: takes seconds on 19x19).
ENGINE_TIMEOUT_S = 300.0
_HANDSHAKE_TIMEOUT_S = 30.0
_COLOURS = ("b", "w")
_GNUGO = re.compile(r"gnugo:(\d+)")


def engine_command(spec: str) -> tuple[str, list[str]]:
  """Checks the syntax of an engine spec; nothing is started or looked up.

  Returns:
    ("gnugo", [level]) or ("gtp", argv).

  Raises:
    eval.players.PlayerSpecError: a malformed spec, saying what is valid.
  """
  if spec == "gnugo" or spec.startswith("gnugo:"):
    match = _GNUGO.fullmatch(spec)
    if not match or int(match.group(1)) > 10:
      raise players_lib.PlayerSpecError(
          f"player {spec!r}: GNU Go is 'gnugo:L' with a level L from 0 "
          "(weakest) to 10, e.g. gnugo:5")
    return "gnugo", [match.group(1)]
  command = spec[len("gtp:"):]
  try:
    argv = shlex.split(command)
  except ValueError as e:
    raise players_lib.PlayerSpecError(
        f"player {spec!r}: cannot split the engine command line: {e}"
    ) from None
  if not argv:
    raise players_lib.PlayerSpecError(
        f"player {spec!r}: 'gtp:' needs the engine's command line, e.g. "
        "'gtp:/usr/games/gnugo --mode gtp'")
  return "gtp", argv


def engine_argv(spec: str) -> list[str]:
  """The command line of the engine `spec` names.

  Raises:
    eval.players.PlayerSpecError: a malformed spec.
    eval.go.GnuGoNotFoundError: `gnugo:L` without GNU Go installed.
  """
  kind, args = engine_command(spec)
  if kind == "gnugo":
    return gtp_client.gnugo_argv(int(args[0]), GNUGO_OPTIONS)
  return args


def _check_go_table(spec: str, game: pyspiel.Game) -> tuple[int, float]:
  """(board size, komi) of `game`, which must be OpenSpiel's go without
  handicap stones."""
  short = game.get_type().short_name
  if short != "go":
    raise players_lib.PlayerSpecError(
        f"player {spec!r} plays Go, not {short}")
  params = game.get_parameters()
  if params.get("handicap", 0):
    raise players_lib.PlayerSpecError(
        f"player {spec!r}: handicap games are not supported (handicap="
        f"{params['handicap']})")
  return int(params["board_size"]), float(params["komi"])


def make_engine_bot(spec: str, game: pyspiel.Game, player_id: int,
                    seed: int) -> GTPBot:
  """The GTP engine `spec` as the player of seat `player_id` of `game`.

  Raises:
    eval.players.PlayerSpecError: a malformed spec, a table that is not Go,
      or an engine that cannot start or play this board.
    eval.go.GnuGoNotFoundError: `gnugo:L` without GNU Go installed.
  """
  _check_go_table(spec, game)
  return GTPBot(engine_argv(spec), game, player_id, seed, name=spec)


class GTPBot(pyspiel.Bot):
  """A GTP engine at OpenSpiel's `go` (see the module docstring)."""

  def __init__(self, argv: Sequence[str], game: pyspiel.Game, player_id: int,
               seed: int = 0, *, name: str = "",
               timeout_s: float = ENGINE_TIMEOUT_S):
    """Starts the engine and sets up an empty board of `game`'s size.

    Args:
      argv: the engine's command line.
      game: OpenSpiel's go (board size and komi are read from it).
      player_id: the seat, 0 (Black) or 1 (White).
      seed: sent as `set_random_seed` at each new game, when the engine
        knows that command (GNU Go does), so that games replay exactly.
      name: how errors name the player (default: the command line).
      timeout_s: the longest wait for one reply.

    Raises:
      eval.players.PlayerSpecError: the engine cannot start, does not speak
        GTP, or cannot play on this board.
    """
    pyspiel.Bot.__init__(self)
    self.name = name or " ".join(argv)
    self._player_id = player_id
    self._size, self._komi = _check_go_table(self.name, game)
    self._seed = int(seed)
    self._moves: list[int] = []  # what the engine's board holds
    try:
      self._engine = gtp_client.GTPEngine(argv,
                                           timeout_s=_HANDSHAKE_TIMEOUT_S)
    except gtp_client.GTPEngineError as e:
      raise players_lib.PlayerSpecError(f"player {self.name!r}: {e}") from None
    try:
      try:
        known = set(self._engine.send("list_commands").split())
      except gtp_client.GTPError:
        known = set()
      self._seeds = "set_random_seed" in known
      self._new_game()
    except gtp_client.GTPError as e:
      self.close()
      raise players_lib.PlayerSpecError(
          f"player {self.name!r}: the engine cannot play a "
          f"{self._size}x{self._size} game with komi {self._komi:g}: "
          f"{e.message or e}") from None
    except gtp_client.GTPEngineError as e:
      self.close()
      raise players_lib.PlayerSpecError(
          f"player {self.name!r}: not a working GTP engine: {e}") from None
    self._engine.timeout_s = timeout_s

  @property
  def pid(self) -> int:
    """The engine's process id."""
    return self._engine.pid

  def player_id(self) -> int:
    return self._player_id

  def reseed(self, seed: int) -> None:
    """Uses `seed` from the next game (`restart_at`) on."""
    self._seed = int(seed)

  def close(self) -> None:
    """Ends the engine's process (idempotent)."""
    engine = getattr(self, "_engine", None)
    if engine is not None:
      engine.close()

  def restart_at(self, state: pyspiel.State) -> None:
    self._new_game()
    self._sync(state.history())

  def inform_action(self, state: pyspiel.State, player_id: int,
                    action: int) -> None:
    self._sync([*state.history(), action])

  def step(self, state: pyspiel.State) -> int:
    self._sync(state.history())
    colour = _COLOURS[state.current_player()]
    reply = self._engine.send(f"genmove {colour}").strip()
    if reply.lower() == "resign":
      raise players_lib.Forfeit(f"{self.name} resigned")
    try:
      action = coords.from_gtp(reply, self._size)
    except ValueError:
      action = None
    if action is None or action not in state.legal_actions():
      raise players_lib.Forfeit(
          f"{self.name} played {reply!r}, not a legal move of the game")
    self._moves.append(action)  # The engine played it on its board.
    return action

  def _new_game(self) -> None:
    self._engine.send(f"boardsize {self._size}")
    self._engine.send("clear_board")
    self._engine.send(f"komi {self._komi:g}")
    if self._seeds:  # After clear_board, which advances GNU Go's seed when
      # it clears stones off the board.
      self._engine.send(f"set_random_seed {self._seed}")
    self._moves = []

  def _sync(self, history: Sequence[int]) -> None:
    """Plays on the engine's board the moves of `history` it lacks."""
    history = [int(a) for a in history]
    if history[:len(self._moves)] != self._moves:
      self._new_game()
    for i in range(len(self._moves), len(history)):
      vertex = coords.to_gtp(history[i], self._size)
      try:
        self._engine.send(f"play {_COLOURS[i % 2]} {vertex}")
      except gtp_client.GTPError as e:
        raise players_lib.Forfeit(
            f"{self.name} refused move {i + 1} ({vertex}), which the game "
            f"allows: {e.message}") from None
      self._moves.append(history[i])


# --- Our Go network.


_step = go_env.jit_step
_legal = go_env.jit_legal


class GoPosition:
  """OpenSpiel's go history as our `GoState`, replayed incrementally."""

  def __init__(self, game: Go):
    self.game = game
    self.reset()

  def reset(self) -> None:
    self.actions: list[int] = []
    self.boards: list[np.ndarray] = [np.zeros(self.game.num_points, np.int8)]
    self.state = self.game.init(jax.random.key(0))

  def advance(self, history: Sequence[int]) -> GoState:
    """The state after `history` (OpenSpiel's action ids, Black first).

    Raises:
      ValueError: a move of `history` is illegal in OpenSpiel's go too
        (occupied or suicide) or comes after the end of the game.
    """
    history = [int(a) for a in history]
    if history[:len(self.actions)] != self.actions:
      self.reset()
    for action in history[len(self.actions):]:
      self.play(action)
    return self.state

  def play(self, action: int) -> None:
    """Plays `action`; a move barred by superko alone is played all the
    same (see the module docstring)."""
    state, game = self.state, self.game
    if bool(state.terminated) or not 0 <= action < game.num_actions:
      raise ValueError(f"move {len(self.actions) + 1} ({action}) comes after "
                       "the end of the game or is no action")
    if bool(np.asarray(_legal(game, state))[action]):
      self.state = _step(game, state, jnp.int32(action))
    elif bool(state.analysis.superko[action]):
      self.state = self._rebuilt(action)
    else:
      raise ValueError(f"move {len(self.actions) + 1} "
                       f"({coords.to_gtp(action, game.board_size)}) is "
                       "illegal")
    self.actions.append(action)
    self.boards.append(np.asarray(self.state.board))

  def _rebuilt(self, action: int) -> GoState:
    state, game = self.state, self.game
    colour = rules_lib.colour_to_play(state.current_player)
    board = np.asarray(rules_lib.play(state.board, state.analysis, colour,
                                      jnp.int32(action)))
    earlier = list({b.tobytes(): b for b in self.boards}.values())
    limit = game.rules.max_moves
    rebuilt = game.from_board(board, 1 - int(state.current_player),
                              np.stack(earlier[-limit:]))
    return rebuilt.replace(last_move=jnp.int32(action))


def make_network_bot(spec: str, run: str, simulations: int,
                     game: pyspiel.Game, player_id: int,
                     step: int | None = None,
                     retrieve_at: str = "node") -> NetworkBot:
  """Our Go network `run` for seat `player_id` of `game`.

  Args:
    spec: the player's spec, for messages.
    run: a run directory or bundled agent of the Go agent.
    simulations: tree-search simulations per move; 0 plays the network's
      most likely move.
    game: OpenSpiel's go.
    player_id: 0 (Black) or 1 (White).
    step: the run's checkpoint (default the latest).
    retrieve_at: with retrieval, "node" or "root" (`NetworkPlayer`).

  Raises:
    eval.players.PlayerSpecError: not a Go agent, or trained on another
      board size.
  """
  size, komi = _check_go_table(spec, game)
  # Imported here: loading a network needs the agent's modules (JAX, haiku).
  from agents.core import CheckpointError  # pylint: disable=g-import-not-at-top
  from eval.go import network_player  # pylint: disable=g-import-not-at-top
  try:
    player = network_player.NetworkPlayer(run, step=step,
                                          simulations=simulations,
                                          retrieve_at=retrieve_at)
  except (CheckpointError, ValueError) as e:
    raise players_lib.PlayerSpecError(f"player {spec!r}: {e}") from None
  if not player.supports(size):
    raise players_lib.PlayerSpecError(
        f"player {spec!r} cannot play a {size}x{size} board")
  ours = games.make("go", board_size=size, komi=komi,
                    max_moves=game.max_game_length())
  return NetworkBot(player, ours, player_id, name=spec)


class NetworkBot(pyspiel.Bot):
  """A `GoPlayer` (our network) at OpenSpiel's go; moves through our engine.

  The search's noise is seeded by the game's seed (`reseed`) and the move
  number: a tournament game replays exactly from its seed, and two networks
  (or one facing itself) play different games under different seeds.
  """

  def __init__(self, player, game: Go, player_id: int, *, name: str = ""):
    pyspiel.Bot.__init__(self)
    self.name = name or getattr(player, "name", "network")
    self._player = player
    self._player_id = player_id
    self._position = GoPosition(game)

  def player_id(self) -> int:
    return self._player_id

  def reseed(self, seed: int) -> None:
    """Seeds the search from the next move on (see the class docstring)."""
    self._player.seed = int(seed)

  def restart_at(self, state: pyspiel.State) -> None:
    self._position.reset()

  def inform_action(self, state: pyspiel.State, player_id: int,
                    action: int) -> None:
    pass  # Caught up from the history at the next `step`.

  def step(self, state: pyspiel.State) -> int:
    history = state.history()
    ours = self._position.advance(history)
    moves = tuple(Move(i % 2, int(a)) for i, a in enumerate(history))
    action = int(self._player.genmove(self._position.game, ours, None, moves))
    if action == RESIGN:
      raise players_lib.Forfeit(f"{self.name} resigned")
    if action not in state.legal_actions():
      raise players_lib.Forfeit(
          f"{self.name} chose {action}, not a legal move of the game")
    return action
