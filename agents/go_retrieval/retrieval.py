"""Retrieval for the Go agent: keys, an index of expert positions, neighbours.

After Humphreys et al. 2022 ("Large-scale Retrieval for Reinforcement
Learning", arXiv:2206.05314): a frozen network (the key network, trained by
`arena train go9_key`) embeds a position; the embeddings of the retrieval
split's positions, each under the eight board symmetries, are the keys of a
nearest-neighbour index (`agents.core.ann`), and each entry's payload is
what a neighbour tells the agent: its board (from its mover's side: +1 the
mover's stones, -1 the opponent's), the next moves played from it, its
game's outcome for its mover, and its game. A query never gets a neighbour
from its own game (`exclude` by game).

The index directory also holds `retrieval.json`: the key network's run, the
positions store and which games went in, so that a `Retriever` rebuilds the
same queries. Positions can be added later (`add_games`): new data, no
retraining.
"""

from __future__ import annotations

import hashlib
import json
import os
import pathlib
from typing import Any, Iterator, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from agents.core import ann, runs
from agents.core import progress as progress_lib
from agents.core.checkpoint import write_json_atomic
from agents.go_retrieval import data as data_lib
from agents.go_retrieval import learner, networks
from games.go import symmetry

META_FILE = "retrieval.json"
NEXT_MOVES = 8  # moves kept per entry (a network reads a prefix)


def game_group(game_id: str) -> int:
  """A stable int64 for a game id: the `group` of its entries."""
  return int.from_bytes(hashlib.sha256(game_id.encode()).digest()[:8],
                        "little", signed=True)


def in_subset(game_id: str, fraction: float) -> bool:
  """Whether a game is in the first `fraction` of the games (a fixed
  function of its id, independent of the split's hash): nested subsets."""
  digest = hashlib.sha256(b"subset:" + game_id.encode()).digest()
  return int.from_bytes(digest[:8], "little") / 2.0**64 < fraction


class KeyNetwork:
  """The frozen key network of a run: `keys(batch) -> [B, D] float32`."""

  def __init__(self, run: str | os.PathLike[str]):
    loaded = runs.read_run(run)
    if loaded.game is None or loaded.game.name != "go" or not hasattr(
        loaded.agent, "networks"):
      raise ValueError(f"{run} is not a Go network run")
    if loaded.config.agent.retrieval.num_neighbours:
      raise ValueError(f"{run} reads neighbours itself; a key network has "
                       "none (agent.retrieval.num_neighbours=0)")
    self.run = str(runs.resolve_run_dir(run))
    self.board_size = loaded.game.board_size
    self.params = loaded.agent.test_params(loaded.state)
    self._nets = loaded.agent.networks
    self._embed = jax.jit(self.embed)

  def embed(self, params: Any, batch: dict[str, Any]) -> jax.Array:
    """[B, D]: the keys of a batch of positions (traceable, for use inside
    a jitted program; `keys` is the host-side call)."""
    fields = {k: batch[k] for k in ("board", "player", "superko",
                                    "last_move")}
    return self._nets.apply(params, learner.observations(fields)[0]
                            ).embedding

  def keys(self, batch: dict[str, np.ndarray]) -> np.ndarray:
    return np.asarray(self._embed(self.params, batch), np.float32)


def _entries(data: data_lib.PositionData, key_net: KeyNetwork,
             rows: np.ndarray, sym: int, groups: np.ndarray
             ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
  """Keys and payload of `rows` under symmetry `sym`."""
  batch = data.batch(rows, np.full(len(rows), sym))
  n = data.board_size
  ahead = np.asarray(data.arrays["next_moves"][np.sort(rows)])[
      np.argsort(np.argsort(rows))][:, :NEXT_MOVES]
  table = np.concatenate([symmetry.point_permutation(n),
                          np.full((8, 1), n * n, np.int32)], axis=1)
  moves = np.where(ahead < 0, -1, table[sym][np.clip(ahead, 0, n * n)])
  mover = np.where(batch["player"] == 0, 1, -1).astype(np.int8)[:, None]
  payload = dict(
      board=(batch["board"] * mover).astype(np.int8),
      next_moves=moves.astype(np.int16),
      outcome=batch["outcome"].astype(np.int8),
      group=groups[rows],
      row=rows.astype(np.int32),
      symmetry=np.full(len(rows), sym, np.int8))
  return key_net.keys(batch), payload


def _row_groups(data: data_lib.PositionData) -> np.ndarray:
  """[S] int64: the group of each row's game."""
  per_game = np.array([game_group(g) for g in data.meta["games"]], np.int64)
  return per_game[np.asarray(data.arrays["game"])]


def retrieval_rows(data: data_lib.PositionData, fraction: float = 1.0
                   ) -> np.ndarray:
  """Rows of the retrieval split whose games are in the `fraction` subset."""
  chosen = np.array([in_subset(g, fraction) for g in data.meta["games"]])
  rows = data.rows["retrieval"]
  return rows[chosen[np.asarray(data.arrays["game"])[rows]]]


def build_index(key_run: str, positions: str | os.PathLike[str],
                out_dir: str | os.PathLike[str], *, fraction: float = 1.0,
                symmetries: int = symmetry.NUM_SYMMETRIES,
                config: ann.IndexConfig | None = None,
                batch_size: int = 1024, progress: bool = True,
                overwrite: bool = False) -> ann.Index:
  """Indexes the retrieval split (its `fraction` subset of games), each
  position under the first `symmetries` symmetries.

  Raises:
    ValueError: a bad run, store or fraction; `out_dir` exists (unless
      `overwrite`).
  """
  if not 0 < fraction <= 1:
    raise ValueError(f"fraction must be in (0, 1], got {fraction}")
  if not 1 <= symmetries <= symmetry.NUM_SYMMETRIES:
    raise ValueError(f"symmetries must be 1..8, got {symmetries}")
  key_net = KeyNetwork(key_run)
  data = data_lib.PositionData(positions)
  if data.board_size != key_net.board_size:
    raise ValueError(f"the key network plays {key_net.board_size}x"
                     f"{key_net.board_size}, the positions are "
                     f"{data.board_size}x{data.board_size}")
  rows = retrieval_rows(data, fraction)
  if not len(rows):
    raise ValueError(f"no retrieval positions in {positions} at fraction "
                     f"{fraction}")
  groups = _row_groups(data)
  chunks = [(rows[i:i + batch_size], s)
            for i in range(0, len(rows), batch_size)
            for s in range(symmetries)]

  def batches() -> Iterator[tuple[np.ndarray, dict[str, np.ndarray]]]:
    for chunk, s in chunks:
      yield _entries(data, key_net, chunk, s, groups)

  # `ann.build` zips the two iterators, taking a key batch, then its
  # payload: each payload is stashed as its keys are made.
  stash: list[dict[str, np.ndarray]] = []

  def keys_iter() -> Iterator[np.ndarray]:
    for keys, payload in batches():
      stash.append(payload)
      yield keys

  def payload_iter() -> Iterator[dict[str, np.ndarray]]:
    while stash:
      yield stash.pop(0)

  index = ann.build(out_dir, keys_iter(), payload_iter(), config,
                    num_entries=len(rows) * symmetries, progress=progress,
                    overwrite=overwrite)
  write_json_atomic(pathlib.Path(out_dir) / META_FILE, dict(
      key_run=key_net.run, positions=str(pathlib.Path(positions).resolve()),
      fraction=fraction, symmetries=symmetries, next_moves=NEXT_MOVES,
      games=sorted({data.meta["games"][g] for g in
                    np.unique(np.asarray(data.arrays["game"])[rows])})))
  return index


def read_meta(index_dir: str | os.PathLike[str]) -> dict[str, Any]:
  path = pathlib.Path(index_dir) / META_FILE
  try:
    return json.loads(path.read_text())
  except FileNotFoundError:
    raise ValueError(f"{index_dir} is no Go retrieval index (no {META_FILE}); "
                     "build one with `arena go index`") from None
  except (OSError, ValueError) as e:
    raise ValueError(f"cannot read {path}: {e}") from None


def add_games(index_dir: str | os.PathLike[str],
              positions: str | os.PathLike[str], game_ids: Sequence[str],
              *, batch_size: int = 1024) -> int:
  """Adds the retrieval-split positions of `game_ids` to an index, under the
  index's symmetries, with its key network: no rebuild, no retraining.

  Returns:
    The number of entries added.

  Raises:
    ValueError: a game is unknown, not in the retrieval split, or already
      in the index.
  """
  meta = read_meta(index_dir)
  key_net = KeyNetwork(meta["key_run"])
  data = data_lib.PositionData(positions)
  known = {g: i for i, g in enumerate(data.meta["games"])}
  have = set(meta["games"])
  for g in game_ids:
    if g not in known:
      raise ValueError(f"game {g!r} is not in {positions}")
    if g in have:
      raise ValueError(f"game {g!r} is in the index already")
  wanted = np.isin(np.asarray(data.arrays["game"]),
                   [known[g] for g in game_ids])
  rows = data.rows["retrieval"][wanted[data.rows["retrieval"]]]
  if not len(rows):
    raise ValueError("none of those games has retrieval-split positions")
  groups = _row_groups(data)
  added = 0
  for i in range(0, len(rows), batch_size):
    parts = [_entries(data, key_net, rows[i:i + batch_size], s, groups)
             for s in range(meta["symmetries"])]
    keys = np.concatenate([k for k, _ in parts])
    payload = {f: np.concatenate([p[f] for _, p in parts])
               for f in parts[0][1]}
    added += len(ann.add(index_dir, keys, payload))
  meta["games"] = sorted(have | set(game_ids))
  write_json_atomic(pathlib.Path(index_dir) / META_FILE, meta)
  return added


class Retriever:
  """Neighbours of positions from an index (see the module docstring)."""

  def __init__(self, index_dir: str | os.PathLike[str]):
    self.meta = read_meta(index_dir)
    self.index = ann.open(index_dir)
    self.key_net = KeyNetwork(self.meta["key_run"])

  def neighbours(self, batch: dict[str, np.ndarray], k: int, next_moves: int,
                 exclude_games: Sequence[str] | None = None,
                 keys: np.ndarray | None = None) -> networks.Neighbours:
    """The `k` nearest entries of each position of `batch`.

    Args:
      batch: positions (`data.PositionData.batch` fields).
      k: neighbours per position.
      next_moves: M, the moves kept per neighbour (<= the index's).
      exclude_games: each position's game id, whose entries it must not
        get; None: no exclusion (live play).
      keys: the batch's keys, if already computed.
    """
    if next_moves > self.meta["next_moves"]:
      raise ValueError(f"the index keeps {self.meta['next_moves']} next "
                       f"moves, {next_moves} asked")
    keys = self.key_net.keys(batch) if keys is None else keys
    groups = (None if exclude_games is None else
              np.array([game_group(g) for g in exclude_games], np.int64))
    found = self.index.search(keys, k, exclude_groups=groups)
    return neighbours_from_payload(found.payload, found.distances,
                                   next_moves)


def in_graph(retriever: Retriever, k: int, next_moves: int
             ) -> tuple[Any, Any]:
  """Retrieval callable from inside a jitted program (e.g. at every node of
  a search, `actor.make_search(retrieve=...)`).

  Returns:
    `(params, retrieve)`: the key network's parameters and
    `retrieve(params, states) -> Neighbours` ([B, K, ...]) for a batch of
    `games.go.GoState`s: the keys are computed in the program, the index is
    searched on the host (`jax.pure_callback`); no game is excluded (live
    play).
  """
  num_points = retriever.key_net.board_size ** 2

  def host_search(keys: np.ndarray) -> networks.Neighbours:
    return retriever.neighbours({}, k, next_moves,
                                keys=np.asarray(keys, np.float32))

  def retrieve(params: Any, states: Any) -> networks.Neighbours:
    keys = retriever.key_net.embed(params, dict(
        board=states.board, player=states.current_player.astype(jnp.int8),
        superko=states.analysis.superko, last_move=states.last_move))
    b = keys.shape[0]
    shapes = networks.Neighbours(
        boards=jax.ShapeDtypeStruct((b, k, num_points), jnp.int8),
        next_moves=jax.ShapeDtypeStruct((b, k, next_moves), jnp.int32),
        outcomes=jax.ShapeDtypeStruct((b, k), jnp.float32),
        distances=jax.ShapeDtypeStruct((b, k), jnp.float32))
    return jax.pure_callback(host_search, shapes, keys)

  return retriever.key_net.params, retrieve


def neighbours_from_payload(payload: dict[str, np.ndarray],
                            distances: np.ndarray,
                            next_moves: int) -> networks.Neighbours:
  """`networks.Neighbours` (numpy) from gathered payload [B, K, ...]."""
  return networks.Neighbours(
      boards=payload["board"].astype(np.int8),
      next_moves=payload["next_moves"][..., :next_moves].astype(np.int32),
      outcomes=payload["outcome"].astype(np.float32),
      distances=np.where(np.isfinite(distances), distances, 0.0).astype(
          np.float32))


def neighbour_table(index_dir: str | os.PathLike[str],
                    positions: str | os.PathLike[str],
                    out_dir: str | os.PathLike[str], *, k: int = 32,
                    splits: Sequence[str] = ("train", "test"),
                    source: str = "index", batch_size: int = 1024,
                    seed: int = 0, progress: bool = True) -> None:
  """Precomputes each position's neighbours, for training and testing.

  Writes a column store: `row` [S] int32 (rows of `positions`), `ids`
  [S, k] int64 (entries of the index, nearest first) and `distances`
  [S, k] float32. `source="random"` draws k random entries of other games
  instead (with their true distances): the control with the same input.

  Raises:
    ValueError: bad arguments, or an index built from other positions.
  """
  from agents.core import columns  # pylint: disable=g-import-not-at-top
  if source not in ("index", "random"):
    raise ValueError(f"source must be \"index\" or \"random\", got {source!r}")
  retriever = Retriever(index_dir)
  data = data_lib.PositionData(positions)
  rows = np.concatenate([data.rows[s] for s in splits])
  game_ids = np.array(data.meta["games"], object)[
      np.asarray(data.arrays["game"])[rows]]
  rng = np.random.default_rng(seed)
  index = retriever.index
  entry_groups = np.asarray(index.payload["group"])
  ids = np.zeros((len(rows), k), np.int64)
  dists = np.zeros((len(rows), k), np.float32)
  with progress_lib.bar(progress) as bar:
    task = bar.add_task(f"neighbours ({source})", total=len(rows))
    for i in range(0, len(rows), batch_size):
      chunk = rows[i:i + batch_size]
      keys = retriever.key_net.keys(data.batch(chunk))
      groups = np.array([game_group(g) for g in game_ids[i:i + batch_size]])
      if source == "index":
        found = index.search(keys, k, exclude_groups=groups)
        ids[i:i + len(chunk)], dists[i:i + len(chunk)] = (found.ids,
                                                          found.distances)
      else:
        pick = rng.integers(0, index.num_entries, size=(len(chunk), k))
        clash = entry_groups[pick] == groups[:, None]
        while clash.any():  # Redraw neighbours of the query's own game.
          pick[clash] = rng.integers(0, index.num_entries, size=clash.sum())
          clash = entry_groups[pick] == groups[:, None]
        entry_keys = np.asarray(index.keys[np.sort(pick.reshape(-1))])[
            np.argsort(np.argsort(pick.reshape(-1)))].reshape(*pick.shape, -1)
        ids[i:i + len(chunk)] = pick
        dists[i:i + len(chunk)] = np.sum(
            np.square(entry_keys - keys[:, None, :]), axis=-1)
      bar.update(task, advance=len(chunk))
  columns.write_columns(out_dir, dict(row=rows.astype(np.int32), ids=ids,
                                      distances=dists),
                        dict(index=str(pathlib.Path(index_dir).resolve()),
                             positions=str(pathlib.Path(positions).resolve()),
                             source=source, k=k, splits=list(splits)))


def add_new_games(index_dir: str | os.PathLike[str],
                  positions: str | os.PathLike[str]) -> tuple[int, int]:
  """Adds every game of the retrieval split of `positions` (a store rebuilt
  with more games) that the index lacks and its fraction admits.

  Returns:
    (games added, entries added); (0, 0) when there is nothing new.
  """
  meta = read_meta(index_dir)
  data = data_lib.PositionData(positions)
  have = set(meta["games"])
  in_retrieval = np.unique(np.asarray(data.arrays["game"])[
      data.rows["retrieval"]])
  new = [data.meta["games"][g] for g in in_retrieval
         if data.meta["games"][g] not in have
         and in_subset(data.meta["games"][g], meta["fraction"])]
  if not new:
    return 0, 0
  return len(new), add_games(index_dir, positions, new)
