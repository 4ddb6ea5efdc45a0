"""API checks shared by every game, and random playouts for benchmarks.

`check_game(game)` plays random legal games (jitted, vmapped) and checks the
contract in `games.api`; `check_against_spiel(...)` replays random OpenSpiel
playthroughs in a JAX game and compares every step. Both raise
`AssertionError` with a message naming the first violation.

`random_rollout(game, key, batch_size)` is the pure, jitted playout both use;
benchmarks reuse it.
"""

from __future__ import annotations

import functools
from typing import Any, Callable, NamedTuple, Sequence

import chex
import jax
import jax.numpy as jnp
import numpy as np

from games import api

# Games replayed unbatched, to compare with the vmapped run.
_NUM_SINGLE_RUNS = 4
# Actions tried on every final state, which must all be no-ops: all of them up
# to this many, else this many spread evenly over the action ids.
_MAX_TERMINAL_PROBES = 64
# The check programs run once, so their compile time dominates a check: on CPU
# these XLA options cut it about threefold. Dropped if this XLA lacks them.
_FAST_COMPILE_OPTIONS = {
    "xla_backend_optimization_level": 0,
    "xla_cpu_use_fusion_emitters": False,
}


class Rollout(NamedTuple):
  """A batch of random playouts; time index t runs over states s_0 .. s_T."""

  states: Any  # pytree, each leaf [B, T + 1, ...]
  actions: jax.Array  # [B, T] int32, the action taken at s_t
  legal_masks: jax.Array  # [B, T + 1, A] bool, the mask at s_t


def _play_one(game: api.Game, init_key: chex.PRNGKey,
              scores: jax.Array) -> Rollout:
  """One playout (unbatched: leaves [T + 1, ...]) driven by random `scores`.

  Before the end, step t plays the legal action with the highest score
  `scores[t]` ([T, A] uint32, all > 0): uniform among the legal actions for
  i.i.d. scores. After the end, step t plays action t mod A (a no-op).
  """
  state = game.init(init_key)

  def body(state, inputs):
    t, scores_t = inputs
    mask = game.legal_action_mask(state)
    sampled = jnp.argmax(jnp.where(mask, scores_t, 0)).astype(jnp.int32)
    action = jnp.where(state.terminated, t % game.num_actions, sampled)
    return game.step(state, action), (state, mask, action)

  steps = jnp.arange(scores.shape[0], dtype=jnp.int32)
  final, (states, masks, actions) = jax.lax.scan(body, state, (steps, scores))
  append = lambda xs, x: jnp.concatenate([xs, x[None]])
  return Rollout(
      states=jax.tree.map(append, states, final),
      actions=actions,
      legal_masks=append(masks, game.legal_action_mask(final)))


def _rollout_inputs(game: api.Game, key: chex.PRNGKey, batch_size: int,
                    num_steps: int) -> tuple[jax.Array, jax.Array]:
  """Init keys [B] and action scores [B, T, A] for `random_rollout`."""
  init_key, noise_key = jax.random.split(key)
  # All the noise at once, unbatched and as raw bits: no PRNG work inside the
  # loop, and far less code to compile than per-game `categorical` sampling.
  noise = jax.random.bits(
      noise_key, (batch_size, num_steps, game.num_actions), jnp.uint32)
  # Scores in [1, 2**31]: ties (odds below 1e-9) go to the lower action id.
  return jax.random.split(init_key, batch_size), (noise >> 1) + 1


@functools.partial(jax.jit, static_argnames=("game", "batch_size", "num_steps"))
def random_rollout(game: api.Game, key: chex.PRNGKey, batch_size: int,
                   num_steps: int | None = None) -> Rollout:
  """Plays `batch_size` games with uniformly random legal actions.

  Args:
    game: the game (static: it is hashable).
    key: consumed.
    batch_size: number of games B.
    num_steps: steps T per game; defaults to `game.max_episode_length`. Steps
      past the end of a game are no-ops, so every game has T + 1 states.

  Returns:
    A `Rollout` with leaves [B, T + 1, ...].
  """
  num_steps = game.max_episode_length if num_steps is None else num_steps
  init_keys, scores = _rollout_inputs(game, key, batch_size, num_steps)
  return jax.vmap(functools.partial(_play_one, game))(init_keys, scores)


class _ConformanceRun(NamedTuple):
  rollout: Rollout  # leaves [B, T + 1, ...]
  observations: jax.Array  # [B, T + 1, P, *observation_shape]
  singles: Rollout  # the first games played unbatched: [S, T + 1, ...]
  probed: Any  # the final states after each probe action: [K, B, ...]


@functools.cache
def _fast_compile_options() -> dict[str, Any]:
  """`_FAST_COMPILE_OPTIONS` if the backend accepts them, else no options."""
  try:
    jax.jit(lambda x: x + 1, compiler_options=_FAST_COMPILE_OPTIONS).lower(
        jnp.zeros((), jnp.int32)).compile()
  except Exception:  # pylint: disable=broad-except  # Unknown option: skip.
    return {}
  return _FAST_COMPILE_OPTIONS


def _jit_for_check(fn: Callable[..., Any], **kwargs: Any) -> Callable[..., Any]:
  return jax.jit(fn, compiler_options=_fast_compile_options(), **kwargs)


@functools.cache
def _jitted_conformance_run() -> Callable[..., _ConformanceRun]:
  return _jit_for_check(_conformance_run,
                        static_argnames=("game", "num_games", "num_steps"))


def _conformance_run(game: api.Game, key: chex.PRNGKey, num_games: int,
                     num_steps: int) -> _ConformanceRun:
  """Everything `check_game` inspects, as one program (compiles once)."""
  rollout = random_rollout(game, key, num_games, num_steps)
  observe = jax.vmap(jax.vmap(functools.partial(_observe_all, game)))
  init_keys, scores = _rollout_inputs(game, key, num_games, num_steps)
  # `lax.map` runs its body on one game at a time: the unbatched code path.
  singles = jax.lax.map(
      lambda inputs: _play_one(game, *inputs),
      (init_keys[:_NUM_SINGLE_RUNS], scores[:_NUM_SINGLE_RUNS]))
  final = jax.tree.map(lambda x: x[:, -1], rollout.states)
  step_all = jax.vmap(jax.vmap(game.step, in_axes=(0, None)),
                      in_axes=(None, 0))
  return _ConformanceRun(
      rollout=rollout,
      observations=observe(rollout.states),
      singles=singles,
      probed=step_all(final, jnp.asarray(_terminal_probes(game.num_actions))))


def _terminal_probes(num_actions: int) -> np.ndarray:
  """[K] int32: the actions tried on terminated states (see above)."""
  if num_actions <= _MAX_TERMINAL_PROBES:
    return np.arange(num_actions, dtype=np.int32)
  return np.unique(np.linspace(0, num_actions - 1, _MAX_TERMINAL_PROBES)
                   .round().astype(np.int32))


def _observe_all(game: api.Game, state: Any) -> jax.Array:
  """[P, *observation_shape]: `observe` for every player (traced player id)."""
  players = jnp.arange(game.num_players, dtype=jnp.int32)
  return jax.vmap(game.observe, in_axes=(None, 0))(state, players)


def _require(condition: Any, message: str) -> None:
  if not bool(np.all(condition)):
    raise AssertionError(message)


def _equal_per_step(a: np.ndarray, b: np.ndarray) -> np.ndarray:
  """[B, T] bool: leaves equal over all trailing axes (NaN equals NaN)."""
  same = (a == b) | (np.isnan(a) & np.isnan(b)
                     if np.issubdtype(a.dtype, np.floating) else False)
  return same.reshape(*a.shape[:2], -1).all(-1) if a.ndim > 2 else same


def _trees_equal(a: Any, b: Any) -> bool:
  try:
    chex.assert_trees_all_equal(a, b)
  except AssertionError:
    return False
  return True


def _first(mask: np.ndarray) -> tuple[int, ...]:
  """Index of the first True entry of `mask`."""
  return tuple(int(i) for i in np.argwhere(mask)[0])


def _check_static(game: api.Game) -> None:
  """Checks the game's constants and that it is hashable (a static jit arg)."""
  name = getattr(game, "name", type(game).__name__)
  try:
    hash(game)
  except TypeError as e:
    raise AssertionError(f"{name}: the game object is not hashable: {e}") from e
  _require(isinstance(game.num_actions, int) and game.num_actions > 0,
           f"{name}: num_actions must be a positive int, got "
           f"{game.num_actions!r}")
  _require(isinstance(game.max_episode_length, int) and
           game.max_episode_length > 0,
           f"{name}: max_episode_length must be a positive int, got "
           f"{game.max_episode_length!r}")
  _require(isinstance(game.observation_shape, tuple),
           f"{name}: observation_shape must be a tuple, got "
           f"{game.observation_shape!r}")


def _check_leaf(name: str, field: str, leaf: Any, shape: tuple[int, ...],
                dtype: Any) -> None:
  _require(leaf.shape == shape and leaf.dtype == dtype,
           f"{name}: {field} must be {np.dtype(dtype).name}{list(shape)}, got "
           f"{leaf.dtype}{list(leaf.shape)}")


def _check_specs(game: api.Game, key: chex.PRNGKey) -> None:
  """Dtypes and shapes of one state, mask and observation, by tracing only."""
  name, num_players = game.name, game.num_players
  state = jax.eval_shape(game.init, key)
  _check_leaf(name, "state.current_player", state.current_player, (), np.int32)
  _check_leaf(name, "state.terminated", state.terminated, (), np.bool_)
  _check_leaf(name, "state.returns", state.returns, (num_players,), np.float32)
  _check_leaf(name, "legal_action_mask",
              jax.eval_shape(game.legal_action_mask, state),
              (game.num_actions,), np.bool_)
  for player in (0, jnp.zeros((), jnp.int32)):  # A Python int or a traced one.
    _check_leaf(name, "observe", jax.eval_shape(game.observe, state, player),
                game.observation_shape, np.float32)
  next_state = jax.eval_shape(game.step, state, jnp.zeros((), jnp.int32))
  spec = lambda tree: jax.tree.map(lambda x: (x.shape, x.dtype), tree)
  _require(spec(next_state) == spec(state),
           f"{name}: step changed the state's structure, shapes or dtypes:\n"
           f"  before: {spec(state)}\n  after:  {spec(next_state)}")


def check_game(game: api.Game, *, num_games: int = 128, seed: int = 0) -> None:
  """Plays `num_games` random games and checks the `games.api` contract.

  Checks: dtypes and shapes of the state fields, observations and masks; that
  a non-terminal state has a legal action and a valid current player; that
  every game ends within `max_episode_length` steps; that returns stay zero
  until the end and sum to zero there; that every action on a terminated
  state is a no-op (at most 64 actions, spread over the ids, are tried) and
  is marked legal; that an unbatched run equals the vmapped one; and that the
  same key plays the same game. The check's programs are compiled without
  XLA optimisations: they run once, so compile time is what counts.

  Args:
    game: the game to check.
    num_games: number of random games (batched).
    seed: seed of the games' keys.

  Raises:
    AssertionError: naming the first violation found.
  """
  _check_static(game)
  name = game.name
  num_players, num_actions = game.num_players, game.num_actions
  key = jax.random.key(seed)
  # One step past the longest game, which must be a no-op.
  num_steps = game.max_episode_length + 1
  length = num_steps + 1
  _check_specs(game, key)  # Cheap, and clearer than a failure inside a scan.

  conformance_run = _jitted_conformance_run()
  run = jax.device_get(conformance_run(game, key, num_games, num_steps))
  rollout, obs = run.rollout, run.observations
  states, masks = rollout.states, rollout.legal_masks

  # Dtypes and shapes.
  batch = (num_games, length)
  _check_leaf(name, "state.current_player", states.current_player, batch,
              np.int32)
  _check_leaf(name, "state.terminated", states.terminated, batch, np.bool_)
  _check_leaf(name, "state.returns", states.returns, (*batch, num_players),
              np.float32)
  _check_leaf(name, "legal_action_mask", masks, (*batch, num_actions), np.bool_)
  _check_leaf(name, "observe", obs,
              (*batch, num_players, *game.observation_shape), np.float32)
  _require(np.isfinite(obs).all(),
           f"{name}: observe returned non-finite values")

  # A step on a terminated state is a no-op, along the games and for every
  # action (or `_MAX_TERMINAL_PROBES` of them). Checked first: a game that
  # plays on after its end breaks most other checks too.
  after_end = states.terminated[:, :-1]
  for path, leaf in jax.tree_util.tree_leaves_with_path(states):
    changed = after_end & ~_equal_per_step(leaf[:, 1:], leaf[:, :-1])
    _require(~changed, f"{name}: a step after termination changed "
             f"state{jax.tree_util.keystr(path)} at (game, step) = "
             f"{_first(changed) if changed.any() else ()}")
  probes = _terminal_probes(num_actions)
  final_states = jax.tree.map(lambda x: x[:, -1], states)
  for (path, final), probed in zip(
      jax.tree_util.tree_leaves_with_path(final_states),
      jax.tree_util.tree_leaves(run.probed)):
    changed = states.terminated[None, :, -1] & ~_equal_per_step(
        probed, np.broadcast_to(final[None], probed.shape))
    where = ()
    if changed.any():
      probe, game_index = _first(changed)
      where = (int(probes[probe]), game_index)
    _require(~changed, f"{name}: a step after termination changed "
             f"state{jax.tree_util.keystr(path)} for (action, game) = {where}")

  # Non-terminal states.
  live = ~states.terminated
  no_move = live & ~masks.any(-1)
  _require(~no_move, f"{name}: a non-terminal state has no legal action "
           f"(game, step) = {_first(no_move) if no_move.any() else ()}")
  bad_player = live & ((states.current_player < 0) |
                       (states.current_player >= num_players))
  _require(~bad_player, f"{name}: current_player out of range at (game, step) "
           f"= {_first(bad_player) if bad_player.any() else ()}")
  early_pay = live[..., None] & (states.returns != 0)
  _require(~early_pay, f"{name}: non-zero returns before the end at "
           f"(game, step, player) = "
           f"{_first(early_pay) if early_pay.any() else ()}")

  # Termination and returns.
  ended = states.terminated[:, game.max_episode_length]
  _require(ended, f"{name}: {int((~ended).sum())} of {num_games} random games "
           f"did not end within max_episode_length={game.max_episode_length}")
  total = states.returns[:, -1].sum(-1)
  _require(np.abs(total) <= 1e-5,
           f"{name}: returns are not zero-sum at the end, sums "
           f"{total[np.abs(total) > 1e-5][:5]}")
  not_all_legal = states.terminated & ~masks.all(-1)
  _require(~not_all_legal, f"{name}: not every action is legal at the terminal "
           f"state (game, step) = "
           f"{_first(not_all_legal) if not_all_legal.any() else ()}")

  # Unbatched equals vmapped; same key, same game.
  for i in range(run.singles.actions.shape[0]):
    single = jax.tree.map(lambda x, i=i: x[i], run.singles)
    batched = jax.tree.map(lambda x, i=i: x[i], rollout)
    _require(_trees_equal(single, batched),
             f"{name}: an unbatched run of game {i} differs from the "
             "vmapped run")
  again = jax.device_get(conformance_run(game, key, num_games, num_steps))
  _require(_trees_equal(again.rollout, rollout),
           f"{name}: the same key played a different game")


def check_against_spiel(
    game: api.Game,
    deal_from_chance: Callable[[Sequence[int]], np.ndarray],
    init_from_deal: Callable[[jax.Array], Any],
    *,
    num_playthroughs: int = 2000,
    seed: int = 0,
) -> None:
  """Replays random OpenSpiel playthroughs in `game` and compares every step.

  Each playthrough of `pyspiel.load_game(game.spiel_game_string)` samples its
  chance outcomes from OpenSpiel's `chance_outcomes()` and its actions
  uniformly among `legal_actions()`. The same deal and actions are then
  replayed in `game` (vmapped over playthroughs, scanned over time), and at
  every decision point and at the end we compare the legal action sets,
  `observe` against `game.spiel_observation` for every player, the current
  player, the terminal flag and the returns. After the end, our steps must be
  no-ops and every action legal.

  Args:
    game: a game with `spiel_game_string` and `spiel_observation`.
    deal_from_chance: maps one playthrough's chance outcomes, in order, to the
      fixed-shape deal that `init_from_deal` takes (filling in cards that were
      never dealt).
    init_from_deal: builds our initial state from a deal (vmappable).
    num_playthroughs: number of random playthroughs N.
    seed: seed of the numpy generator driving the playthroughs.

  Raises:
    AssertionError: describing the first playthrough and step that differ.
  """
  import pyspiel  # pylint: disable=g-import-not-at-top  # Heavy; tests only.

  spiel_game = pyspiel.load_game(game.spiel_game_string)
  rng = np.random.default_rng(seed)
  num_players, num_actions = game.num_players, game.num_actions
  num_steps = game.max_episode_length
  shape = (num_playthroughs, num_steps + 1)
  want = dict(
      obs=np.zeros((*shape, num_players, *game.observation_shape), np.float32),
      mask=np.zeros((*shape, num_actions), bool),
      player=np.full(shape, -1, np.int32),
      terminated=np.zeros(shape, bool),
      returns=np.zeros((*shape, num_players), np.float32),
  )
  actions = np.zeros((num_playthroughs, num_steps), np.int32)
  deals, histories = [], []

  for i in range(num_playthroughs):
    state = spiel_game.new_initial_state()
    chance = []
    for t in range(num_steps + 1):
      while state.is_chance_node():
        outcomes, probs = zip(*state.chance_outcomes())
        outcome = int(rng.choice(outcomes, p=probs))
        chance.append(outcome)
        state.apply_action(outcome)
      for p in range(num_players):
        want["obs"][i, t, p] = game.spiel_observation(state, p)
      want["returns"][i, t] = state.returns()
      if state.is_terminal():
        want["terminated"][i, t:] = True
        want["mask"][i, t:] = True
        want["obs"][i, t + 1:] = want["obs"][i, t]
        want["returns"][i, t + 1:] = want["returns"][i, t]
        break
      if t == num_steps:
        raise AssertionError(
            f"{game.name}: OpenSpiel playthrough {state.history_str()} is "
            f"longer than max_episode_length={num_steps}")
      want["player"][i, t] = state.current_player()
      legal = state.legal_actions()
      for a in legal:
        want["mask"][i, t, game.our_action(state, a)] = True
      spiel_action = int(legal[rng.integers(len(legal))])
      actions[i, t] = game.our_action(state, spiel_action)
      state.apply_action(spiel_action)
    deals.append(np.asarray(deal_from_chance(chance)))
    histories.append(state.history_str())

  got = _replay(game, init_from_deal, np.stack(deals), actions)
  got["player"] = np.where(want["terminated"], -1, got["player"])
  for field, expected in want.items():
    differs = ~_equal_per_step(got[field], expected)
    if differs.any():
      i, t = _first(differs)
      raise AssertionError(
          f"{game.name}: {field} differs from OpenSpiel in playthrough {i} "
          f"(history {histories[i]}, deal {deals[i].tolist()}) after {t} of "
          f"our steps (actions {actions[i, :t].tolist()}):\n"
          f"  ours:      {got[field][i, t].tolist()}\n"
          f"  OpenSpiel: {expected[i, t].tolist()}")


def _replay(game: api.Game, init_from_deal: Callable[[jax.Array], Any],
            deals: np.ndarray, actions: np.ndarray) -> dict[str, np.ndarray]:
  """Replays `actions` [N, T] from `deals` [N, ...]; fields [N, T + 1, ...]."""

  def one(deal, actions):
    state = init_from_deal(deal)
    final, states = jax.lax.scan(
        lambda s, a: (game.step(s, a), s), state, actions)
    states = jax.tree.map(lambda xs, x: jnp.concatenate([xs, x[None]]),
                          states, final)
    return dict(
        obs=jax.vmap(functools.partial(_observe_all, game))(states),
        mask=jax.vmap(game.legal_action_mask)(states),
        player=states.current_player,
        terminated=states.terminated,
        returns=states.returns,
    )

  replay = _jit_for_check(jax.vmap(one))
  return jax.device_get(replay(deals, actions))
